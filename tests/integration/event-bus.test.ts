/**
 * The offline event bus (local/event-bus.ts) over its HTTP endpoint, with fake function runtimes: rule matching,
 * asynchronous invocation with Lambda's retries, Input / InputPath, and the IVS emulator posting to it.
 */
import { CreateParticipantTokenCommand, CreateStageCommand, IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { afterEach, describe, expect, it } from "vitest";
import { startEventBus, type EventTarget, type LocalEventBus } from "../../local/event-bus.ts";
import { startIvsEmulator } from "../../local/ivs/index.ts";

const STAGE = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl";
const IVS_STAGE_UPDATES = { source: ["aws.ivs"], "detail-type": ["IVS Stage Update"] };

const event = (name: string, id = crypto.randomUUID()) => ({
  version: "0",
  id,
  "detail-type": "IVS Stage Update",
  source: "aws.ivs",
  account: "123456789012",
  time: "2025-04-23T06:36:53Z",
  region: "us-east-1",
  resources: [STAGE],
  detail: {
    session_id: "st-1CVugbu2cf2n8",
    event_name: name,
    event_time: "2025-04-23T06:36:53Z",
    user_id: "",
    participant_id: "03JY4smU3eXc",
  },
});

/** A function stand-in: records what it is invoked with; fails the first `failures` invocations. */
function fakeFunction(name: string, failures = 0): EventTarget & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    name,
    calls,
    invoke(payload) {
      calls.push(payload);
      return calls.length <= failures
        ? Promise.reject(new Error(`${name} failed (${calls.length})`))
        : Promise.resolve(null);
    },
  };
}

const post = async (bus: LocalEventBus, body: unknown, raw?: string) => {
  const res = await fetch(bus.eventsUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
};

const buses: LocalEventBus[] = [];
async function bus(retryDelaysMs = [5, 10]): Promise<LocalEventBus> {
  const b = await startEventBus({ retryDelaysMs });
  buses.push(b);
  return b;
}

afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
});

describe("the event bus", () => {
  it("hands an event to the functions whose rules match it, as it came", async () => {
    const b = await bus();
    const published = fakeFunction("Published");
    const everything = fakeFunction("Everything");
    const other = fakeFunction("Other");
    b.addRule({
      name: "Published.Rule",
      pattern: { ...IVS_STAGE_UPDATES, detail: { event_name: ["Participant Published"] } },
      target: published,
    });
    b.addRule({
      name: "Everything.Rule",
      pattern: { source: ["aws.ivs"], resources: [{ prefix: "arn:aws:ivs:us-east-1:" }] },
      target: everything,
    });
    b.addRule({ name: "Other.Rule", pattern: { source: ["aws.s3"] }, target: other });

    const e1 = event("Participant Published");
    const e2 = event("Participant Unpublished");
    const res = await post(b, [e1, e2]);
    expect(res).toEqual({
      status: 200,
      json: {
        entries: [
          { id: e1.id, matchedRules: ["Published.Rule", "Everything.Rule"] },
          { id: e2.id, matchedRules: ["Everything.Rule"] },
        ],
      },
    });
    await b.drained();
    expect(published.calls).toEqual([e1]);
    expect(everything.calls).toEqual([e1, e2]);
    expect(other.calls).toEqual([]);
    expect(b.deliveries().map((d) => [d.rule, d.eventId, d.status, d.attempts])).toEqual([
      ["Published.Rule", e1.id, "delivered", 1],
      ["Everything.Rule", e1.id, "delivered", 1],
      ["Everything.Rule", e2.id, "delivered", 1],
    ]);
  });

  it("skips disabled rules and rules of other buses", async () => {
    const b = await bus();
    const disabled = fakeFunction("Disabled");
    const custom = fakeFunction("Custom");
    b.addRule({ name: "Disabled.Rule", pattern: IVS_STAGE_UPDATES, target: disabled, enabled: false });
    b.addRule({ name: "Custom.Rule", pattern: IVS_STAGE_UPDATES, target: custom, eventBusName: "app-events" });
    expect((await post(b, event("Participant Published"))).json.entries[0].matchedRules).toEqual([]);
    expect(b.publish(event("Participant Published") as never, "app-events")).toEqual(["Custom.Rule"]);
    await b.drained();
    expect(disabled.calls).toHaveLength(0);
    expect(custom.calls).toHaveLength(1);
    expect(b.rules().map((r) => [r.name, r.eventBusName, r.enabled, r.target])).toEqual([
      ["Disabled.Rule", "default", false, "Disabled"],
      ["Custom.Rule", "app-events", true, "Custom"],
    ]);
  });

  it("invokes asynchronously: the sender does not wait for the function", async () => {
    const b = await bus();
    let release!: () => void;
    const slow: EventTarget & { calls: number } = {
      name: "Slow",
      calls: 0,
      invoke() {
        slow.calls++;
        return new Promise((resolve) => (release = () => resolve(null)));
      },
    };
    b.addRule({ name: "Slow.Rule", pattern: IVS_STAGE_UPDATES, target: slow });
    expect((await post(b, event("Participant Published"))).status).toBe(200);
    expect(slow.calls).toBe(1);
    expect(b.deliveries()[0]!.status).toBe("pending");
    release();
    await b.drained();
    expect(b.deliveries()[0]!.status).toBe("delivered");
  });

  it("retries a failed invocation as Lambda does (MaximumRetryAttempts), then records the failure", async () => {
    const b = await bus();
    const flaky = fakeFunction("Flaky", 2);
    const broken = fakeFunction("Broken", Infinity);
    const once = fakeFunction("Once", Infinity);
    b.addRule({ name: "Flaky.Rule", pattern: IVS_STAGE_UPDATES, target: flaky });
    b.addRule({ name: "Broken.Rule", pattern: IVS_STAGE_UPDATES, target: broken });
    b.addRule({ name: "Once.Rule", pattern: IVS_STAGE_UPDATES, target: once, maximumRetryAttempts: 0 });
    const e = event("Participant Published");
    await post(b, e);
    await b.drained();
    expect(flaky.calls).toEqual([e, e, e]);
    expect(broken.calls).toHaveLength(3); // 1 + 2 retries
    expect(once.calls).toHaveLength(1);
    expect(b.deliveries().map((d) => [d.rule, d.status, d.attempts])).toEqual([
      ["Flaky.Rule", "delivered", 3],
      ["Broken.Rule", "failed", 3],
      ["Once.Rule", "failed", 1],
    ]);
    // In the order they were given up on.
    expect(b.failures()).toEqual([
      {
        rule: "Once.Rule",
        target: "Once",
        eventId: e.id,
        attempts: 1,
        status: "failed",
        error: "Once failed (1)",
        event: e,
      },
      {
        rule: "Broken.Rule",
        target: "Broken",
        eventId: e.id,
        attempts: 3,
        status: "failed",
        error: "Broken failed (3)",
        event: e,
      },
    ]);
    const listed = (await (await fetch(b.eventsUrl)).json()) as {
      rules: unknown[];
      deliveries: unknown[];
      failures: unknown[];
    };
    expect({
      rules: listed.rules.length,
      deliveries: listed.deliveries.length,
      failures: listed.failures.length,
    }).toEqual({ rules: 3, deliveries: 3, failures: 2 });
  });

  it("sends a rule's Input or the part of the event its InputPath names", async () => {
    const b = await bus();
    const constant = fakeFunction("Constant");
    const detail = fakeFunction("Detail");
    const name = fakeFunction("Name");
    b.addRule({ name: "Constant.Rule", pattern: IVS_STAGE_UPDATES, target: constant, input: '{"poke":true}' });
    b.addRule({ name: "Detail.Rule", pattern: IVS_STAGE_UPDATES, target: detail, inputPath: "$.detail" });
    b.addRule({ name: "Name.Rule", pattern: IVS_STAGE_UPDATES, target: name, inputPath: "$.detail.event_name" });
    const e = event("Participant Unpublished");
    await post(b, e);
    await b.drained();
    expect(constant.calls).toEqual([{ poke: true }]);
    expect(detail.calls).toEqual([e.detail]);
    expect(name.calls).toEqual(["Participant Unpublished"]);
  });

  it("refuses what is not an event, and rules it could not honour", async () => {
    const b = await bus();
    const target = fakeFunction("T");
    b.addRule({ name: "T.Rule", pattern: IVS_STAGE_UPDATES, target });
    const good = event("Participant Published");
    const { detail: _detail, ...noDetail } = good;
    for (const bad of [
      null,
      7,
      [],
      { ...good, id: "" },
      { ...good, time: "yesterday" },
      { ...good, resources: "x" },
      noDetail,
      { ...good, detail: [] },
      [good, { ...good, source: 1 }],
    ]) {
      const res = await post(b, bad);
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }
    expect((await post(b, undefined, "{not json")).status).toBe(400);
    expect((await fetch(`${b.endpoint}/nope`)).status).toBe(404);
    expect((await fetch(b.eventsUrl, { method: "PUT", body: "{}" })).status).toBe(405);
    await b.drained();
    expect(target.calls).toEqual([]);

    expect(() => b.addRule({ name: "Bad.Pattern", pattern: { source: [] }, target })).toThrow(
      /Bad\.Pattern: invalid event pattern/,
    );
    expect(() =>
      b.addRule({ name: "Bad.Retries", pattern: IVS_STAGE_UPDATES, target, maximumRetryAttempts: 3 }),
    ).toThrow(/0, 1 or 2/);
    expect(() => b.addRule({ name: "Bad.Path", pattern: IVS_STAGE_UPDATES, target, inputPath: "detail" })).toThrow(
      /InputPath/,
    );
    expect(() => b.addRule({ name: "Bad.Input", pattern: IVS_STAGE_UPDATES, target, input: "{" })).toThrow(
      /Input must be JSON/,
    );
    expect(() => b.addRule({ name: "T.Rule", pattern: IVS_STAGE_UPDATES, target })).toThrow(/exists/);
  });
});

describe("the IVS emulator and the event bus", () => {
  it("a publish on the emulator reaches the subscribed function as EventBridge delivers it; a duplicate twice", async () => {
    const b = await bus();
    const presence = fakeFunction("Presence");
    b.addRule({
      name: "Presence.StageUpdates",
      pattern: { ...IVS_STAGE_UPDATES, detail: { event_name: [{ prefix: "Participant" }] } },
      target: presence,
    });
    const emu = await startIvsEmulator({ eventBusUrl: b.eventsUrl });
    const ivs = new IVSRealTimeClient({
      endpoint: emu.url,
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
    });
    try {
      const stageArn = (await ivs.send(new CreateStageCommand({}))).stage!.arn!;
      const t = (await ivs.send(new CreateParticipantTokenCommand({ stageArn, userId: "u-1" }))).participantToken!;
      const call = (path: string, body: unknown) =>
        fetch(`${emu.url}${path}`, { method: "POST", body: JSON.stringify(body) });
      const joined = (await (await call("/_emulator/join", { token: t.token })).json()) as { sessionId: string };
      await call("/_emulator/events", { duplicate: 1 });
      await call("/_emulator/publish", { participantId: t.participantId });
      await call("/_emulator/leave", { participantId: t.participantId });
      await emu.eventsSettled();
      await b.drained();

      const calls = presence.calls as Array<{ id: string; detail: Record<string, string>; resources: string[] }>;
      expect(calls.map((c) => c.detail.event_name)).toEqual([
        "Participant Published",
        "Participant Published",
        "Participant Unpublished",
      ]);
      expect(calls[0]).toEqual(calls[1]);
      expect(calls[0]!.resources).toEqual([stageArn]);
      expect(calls[2]!.detail).toMatchObject({
        session_id: joined.sessionId,
        participant_id: t.participantId,
        user_id: "u-1",
      });
      expect(calls.map((c) => c.id)).toEqual(emu.sentEvents().map((e) => e.id));
    } finally {
      ivs.destroy();
      await emu.close();
    }
  });
});
