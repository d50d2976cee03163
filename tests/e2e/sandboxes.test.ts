/**
 * Function sandboxes through the offline stack: each function's bound read from the template, and a token request
 * that overruns the function's timeout while other token requests run beside it fails alone (API Gateway's 503),
 * as in Lambda, where each invocation has a sandbox of its own.
 */
import { describe, expect, it } from "vitest";
import { loadTemplate } from "../../local/template.ts";
import { useStack } from "../support/stack.ts";

// The token function with a 6 s timeout instead of 10 s. What makes it overrun is a DynamoDB that hangs: its
// DynamoDB client gives each attempt 2.5 s, three attempts, so with 10 s it would answer a 503 of its own after
// 7.5 s; with 6 s, Lambda's timeout comes first, in the third attempt. (A slow IVS would not do: the function keeps
// 1.5 s of its timeout back to answer its own 503 when IVS is late, shared/http/request.ts.)
const template = loadTemplate();
template.Resources.TokenFunction!.Properties!.Timeout = 6;
const stack = useStack({ template, sandboxes: { max: 6 } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(what: string, condition: () => boolean, ms = 20_000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`not reached within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

function gate(): { until: Promise<void>; open(): void } {
  let open = () => {};
  const until = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { until, open };
}

describe("function sandboxes in the offline stack", () => {
  it("bounds each function's sandboxes by its reserved concurrency, else by the stack's setting", () => {
    const s = stack();
    expect(s.stack.functions.get("DisconnectWorkerFunction")!.stats().bound).toBe(1);
    expect(s.stack.functions.get("TokenFunction")!.stats().bound).toBe(6);
  });

  it("a token request that overruns the function's timeout under concurrent load fails alone; the requests running beside it get their tokens", async () => {
    const s = stack();
    const users = await Promise.all(Array.from({ length: 6 }, (_, i) => s.login(`sandboxes-e2e-${i}`)));
    // A room each: each request's DynamoDB calls can be told apart by its room id, and no two meet on an item.
    const rooms: Array<{ roomId: string }> = [];
    for (const user of users) rooms.push(await s.createRoom(user));
    const token = (i: number) => s.api("POST", `/rooms/${rooms[i]!.roomId}/token`, { as: users[i]!, body: {} });
    const tokenFunction = s.stack.functions.get("TokenFunction")!;
    const dynamodb = s.stack.dynamodb;
    const calls = (operation: string) => dynamodb.requestCounts()[operation] ?? 0;

    // Six sandboxes warm: six requests at once find one sandbox and start five more, which stay (idle ones retire
    // only after a minute).
    for (const r of await Promise.all(users.map((_, i) => token(i)))) expect(r.status, r.text).toBe(200);
    await eventually(
      "six sandboxes ready",
      () => tokenFunction.stats().sandboxes === 6 && tokenFunction.stats().starting === 0,
    );

    const overrunning = gate();
    const others = gate();
    try {
      // Two requests whose every DynamoDB call hangs, past the function's timeout.
      for (const i of [0, 1]) dynamodb.hold({ bodyIncludes: rooms[i]!.roomId, until: overrunning.until });
      const reads = calls("BatchGetItem");
      const overruns = Promise.all([token(0), token(1)]);
      let overrunsAnswered = false;
      void overruns.then(() => {
        overrunsAnswered = true;
      });
      await eventually("the two overrunning reads held", () => calls("BatchGetItem") >= reads + 2);

      // Three seconds later, four more, whose recording transaction is held until the two have timed out: when those
      // end, these four are running in the warm sandboxes, three seconds into their own six.
      await sleep(3_000);
      dynamodb.hold({ operation: "TransactWriteItems", until: others.until });
      const writes = calls("TransactWriteItems");
      const rest = Promise.all([2, 3, 4, 5].map(token));
      await eventually("the four others' transactions held", () => calls("TransactWriteItems") >= writes + 4);
      expect(overrunsAnswered, "the four were running before the two timed out").toBe(false);

      for (const r of await overruns) {
        // API Gateway's answer to a function that timed out, not a problem document of the function's own.
        expect(r.status, r.text).toBe(503);
        expect(r.body).toEqual({ message: "Service Unavailable" });
      }
      others.open();
      for (const r of await rest) {
        expect(r.status, r.text).toBe(200);
        expect(r.body.token).toEqual(expect.any(String));
      }
      expect(tokenFunction.stats().sandboxes).toBeLessThanOrEqual(6);
    } finally {
      overrunning.open();
      others.open();
    }

    // The two are served again, by a fresh sandbox or a warm one.
    for (const r of await Promise.all([token(0), token(1)])) expect(r.status, r.text).toBe(200);
  });
});
