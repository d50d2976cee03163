/**
 * The README's webhook receiver, as a reader would run it: the ```js block under "### Webhooks", saved as a file and
 * run with node. It accepts what the Standard Webhooks library signs with its key and refuses anything else. (That
 * stagepass's deliveries verify is tests/e2e/webhooks.test.ts; here, that the README's code is right and short.)
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../local/ports.ts";
import { projectRoot } from "../../local/template.ts";

const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("### Webhooks"));
const code = /```js\n([\s\S]*?)```/.exec(section)![1]!;
const dir = join(projectRoot, ".build", `readme-receiver-${process.pid}`);
const secret = `whsec_${randomBytes(32).toString("base64")}`;
let url = "";
let output = "";
let child: ReturnType<typeof spawn>;

beforeAll(async () => {
  // Inside the project, so that `standardwebhooks` resolves from its node_modules as it does for a reader here.
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "receiver.mjs"), code);
  const port = await freePort();
  url = `http://127.0.0.1:${port}/hook`;
  child = spawn(process.execPath, [join(dir, "receiver.mjs")], {
    env: { ...process.env, SECRET: secret, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  for (;;) {
    try {
      await fetch(url, { method: "POST", body: "{}" });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (child.exitCode !== null) throw new Error(`the receiver exited: ${output}`);
  }
}, 30_000);
afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

function signed(body: string, id = "evt_0123456789abcdef0123456789abcdef", at = new Date()) {
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}

describe("the README's receiver", () => {
  it("is ten lines", () => {
    expect(code.trimEnd().split("\n").length).toBeLessThanOrEqual(10);
  });

  it("accepts a genuine webhook (204) and prints its type, id and data", async () => {
    const body = JSON.stringify({
      type: "room.created",
      id: "evt_0123456789abcdef0123456789abcdef",
      timestamp: new Date().toISOString(),
      data: { roomId: "r1" },
    });
    const r = await fetch(url, { method: "POST", headers: signed(body), body });
    expect(r.status).toBe(204);
    await expect.poll(() => output).toContain('room.created evt_0123456789abcdef0123456789abcdef {"roomId":"r1"}');
  });

  it("refuses (400) a tampered body, another key's signature, an old timestamp, and no signature", async () => {
    const body = JSON.stringify({ type: "room.deleted", id: "evt_1", data: { roomId: "r1" } });
    const other = new Webhook(`whsec_${randomBytes(32).toString("base64")}`);
    const now = new Date();
    const refusals = () => output.match(/refused:/g)?.length ?? 0;
    const before = refusals();
    for (const [headers, sent] of [
      [signed(body), body.replace("r1", "r2")],
      [{ ...signed(body), "webhook-signature": other.sign("evt_0123456789abcdef0123456789abcdef", now, body) }, body],
      [signed(body, undefined, new Date(Date.now() - 10 * 60_000)), body],
      [{ "content-type": "application/json" }, body],
    ] as const) {
      expect((await fetch(url, { method: "POST", headers, body: sent })).status).toBe(400);
    }
    await expect.poll(refusals).toBe(before + 4);
  });
});
