// The console's server half on its own (no stack, no browser): the page and its assets, the bundle that esbuild makes
// of the page's TypeScript, and the path to the emulator, which reaches only its `/_emulator/` routes.
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConsoleServer } from "../../local/console/server.ts";

let emulator: Server;
let consoleServer: Server;
let base = "";
const seen: Array<{ method: string; url: string; body: string; contentType: string | undefined }> = [];

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
const listen = (server: Server) =>
  new Promise<string>((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });

const rawGet = (path: string) =>
  new Promise<number>((resolve, reject) => {
    const req = request(`${base}${path}`, { method: "GET" }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.path = path;
    req.on("error", reject);
    req.end();
  });

beforeAll(async () => {
  // A stand-in emulator that records what reaches it and answers like the emulator's unknown route.
  emulator = createServer((req, res) => {
    void read(req).then((body) => {
      seen.push({ method: req.method!, url: req.url!, body, contentType: req.headers["content-type"] });
      res.writeHead(req.url === "/_emulator/join" ? 200 : 404, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          req.url === "/_emulator/join"
            ? { participantId: "p1" }
            : { message: `No emulator route ${req.method} ${req.url}.` },
        ),
      );
    });
  });
  const ivsEndpoint = await listen(emulator);
  const console = createConsoleServer({ ivsEndpoint });
  consoleServer = createServer((req, res) => {
    void read(req).then((body) => {
      const path = req.url!.split("?")[0]!;
      if (console.handles(req.method!, path)) return console.serve(req, res, Buffer.from(body));
      res.writeHead(404).end("api");
    });
  });
  base = await listen(consoleServer);
});

afterAll(async () => {
  await Promise.all([emulator, consoleServer].map((s) => new Promise((resolve) => s.close(resolve))));
});

describe("the console's server", () => {
  it("serves the page at / with a policy that loads nothing from elsewhere", async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(r.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await r.text();
    expect(html).toContain('<script type="module" src="/_console/console.js">');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("bundles the page's TypeScript into one script for the browser, and serves its stylesheet", async () => {
    const js = await fetch(`${base}/_console/console.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const source = await js.text();
    expect(source).toContain("fetchParticipants");
    expect(source).not.toMatch(/^\s*import\s/m);
    const css = await fetch(`${base}/_console/console.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("passes the simulated client's calls to the emulator's /_emulator/ routes, answers and all", async () => {
    seen.length = 0;
    const join = await fetch(`${base}/_console/ivs/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"token":"t"}',
    });
    expect(join.status).toBe(200);
    expect(await join.json()).toEqual({ participantId: "p1" });
    const publish = await fetch(`${base}/_console/ivs/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"participantId":"p1"}',
    });
    expect(publish.status).toBe(404);
    expect(await publish.json()).toEqual({ message: "No emulator route POST /_emulator/publish." });
    expect(seen).toEqual([
      { method: "POST", url: "/_emulator/join", body: '{"token":"t"}', contentType: "application/json" },
      { method: "POST", url: "/_emulator/publish", body: '{"participantId":"p1"}', contentType: "application/json" },
    ]);
  });

  it("reaches nothing but the emulator's own routes, with GET and POST only", async () => {
    seen.length = 0;
    expect((await fetch(`${base}/_console/ivs/faults`, { method: "DELETE" })).status).toBe(405);
    // Sent as is (fetch would resolve the dots itself): the AWS API of the emulator stays out of reach.
    for (const path of ["/_console/ivs/../tags/x", "/_console/ivs/%2e%2e/tags/x", "/_console/ivs/..%2ftags"]) {
      expect(await rawGet(path)).toBe(404);
    }
    expect(seen.map((s) => s.url)).toEqual(["/_emulator/..%2ftags"]);
    expect((await fetch(`${base}/_console/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(404);
  });
});
