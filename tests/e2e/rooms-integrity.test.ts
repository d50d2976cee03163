// Data integrity of POST /rooms: Idempotency-Key retries make one stage, a room that cannot be saved takes its
// stage with it, and IVS's stage quota is answered 409 quota_exceeded. Stages are counted with IVS ListStages.
import { CreateStageCommand, DeleteStageCommand, ListStagesCommand } from "@aws-sdk/client-ivs-realtime";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SHARED_IVS_MAX_STAGES, useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

let alice: Session, bob: Session;
let seq = 0;
/** A stage name no other test uses. */
const uniqueName = (what: string) => `${what}-${Date.now().toString(36)}-${seq++}`;

beforeAll(async () => {
  [alice, bob] = await Promise.all([stack().login("integrity-alice"), stack().login("integrity-bob")]);
});

afterEach(async () => {
  const s = stack();
  s.stack.dynamodb.setReachable(true);
  await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });
});

async function allStages(s: TestStack) {
  const stages: Array<{ arn?: string; name?: string }> = [];
  let nextToken: string | undefined;
  do {
    const out = await s.ivs.send(new ListStagesCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
    stages.push(...(out.stages ?? []));
    nextToken = out.nextToken || undefined;
  } while (nextToken);
  return stages;
}
const stagesNamed = async (s: TestStack, name: string) => (await allStages(s)).filter((st) => st.name === name);

/** Room items (and idempotency records) in the table that carry this stage name or this key. */
async function recordsOf(s: TestStack, name: string) {
  return (await s.scanTable()).filter((i: Record<string, any>) => i.name?.S === name);
}

function create(as: Session, body: unknown, key?: string): Promise<ApiResponse> {
  return stack().api("POST", "/rooms", {
    as,
    body,
    ...(key !== undefined ? { headers: { "idempotency-key": key } } : {}),
  });
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000) {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("Idempotency-Key on POST /rooms", () => {
  it("a retry returns the same room and creates no second stage", async () => {
    const s = stack();
    const name = uniqueName("idem");
    const body = { name, title: "Retry me", tags: { a: "1" } };
    s.stack.ivs.resetCounts();
    const first = await create(alice, body, "key-1");
    expect(first.status, first.text).toBe(201);
    const second = await create(alice, body, "key-1");
    expect(second.status, second.text).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get("location")).toBe(`/rooms/${first.body.roomId}`);
    expect(s.stack.ivs.requestCounts().CreateStage).toBe(1);
    expect(await stagesNamed(s, name)).toHaveLength(1);
  });

  it("the same body in another key order or spacing is the same request", async () => {
    const name = uniqueName("order");
    const first = await stack().api("POST", "/rooms", {
      as: alice,
      rawBody: `{"name":"${name}","title":"T"}`,
      headers: { "content-type": "application/json", "idempotency-key": "key-order" },
    });
    expect(first.status, first.text).toBe(201);
    const second = await stack().api("POST", "/rooms", {
      as: alice,
      rawBody: `{ "title" : "T",\n "name": "${name}" }`,
      headers: { "content-type": "application/json", "idempotency-key": "key-order" },
    });
    expect(second.status, second.text).toBe(201);
    expect(second.body.roomId).toBe(first.body.roomId);
    expect(await stagesNamed(stack(), name)).toHaveLength(1);
  });

  it("the same key with another body gets 422 and creates nothing", async () => {
    const s = stack();
    const name = uniqueName("mismatch");
    expect((await create(alice, { name }, "key-2")).status).toBe(201);
    const before = await s.scanTable();
    const other = uniqueName("other");
    const r = await create(alice, { name: other }, "key-2");
    expect(r.status, r.text).toBe(422);
    expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ status: 422, code: "idempotency_mismatch" });
    expect(await stagesNamed(s, other)).toHaveLength(0);
    expect(await s.scanTable()).toEqual(before);
    // ... also when the only difference is a field left out.
    expect((await create(alice, {}, "key-2")).status).toBe(422);
  });

  it("keys belong to their caller: another user's same key makes another room", async () => {
    const name = uniqueName("per-user");
    const a = await create(alice, { name }, "shared-key");
    const b = await create(bob, { name }, "shared-key");
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.roomId).not.toBe(a.body.roomId);
    expect(b.body.ownerId).toBe(bob.sub);
  });

  it("concurrent requests with one key end with one room and one stage", async () => {
    const s = stack();
    const name = uniqueName("race");
    const results = await Promise.all(Array.from({ length: 4 }, () => create(alice, { name }, "key-race")));
    const ok = results.filter((r) => r.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([201, 409], r.text).toContain(r.status);
    expect(new Set(ok.map((r) => r.body.roomId)).size).toBe(1);
    expect(await stagesNamed(s, name)).toHaveLength(1);
    expect((await recordsOf(s, name)).filter((i: Record<string, any>) => i.sk?.S === "ROOM")).toHaveLength(1);
    const again = await create(alice, { name }, "key-race");
    expect(again.body.roomId).toBe(ok[0]!.body.roomId);
  });

  it("a key whose room was deleted gets 409, not a new room", async () => {
    const s = stack();
    const name = uniqueName("deleted");
    const first = await create(alice, { name }, "key-deleted");
    expect((await s.api("DELETE", `/rooms/${first.body.roomId}`, { as: alice })).status).toBe(204);
    const r = await create(alice, { name }, "key-deleted");
    expect(r.status, r.text).toBe(409);
    expect(r.body.code).toBe("conflict");
    expect(await stagesNamed(s, name)).toHaveLength(0);
  });
});

describe("a failure between CreateStage and the room write leaves no stage behind", () => {
  /** POSTs while CreateStage is slowed down, cutting DynamoDB off once CreateStage has reached IVS. */
  async function createWhileDynamoDbFails(body: Record<string, unknown>, key?: string): Promise<ApiResponse> {
    const s = stack();
    const fault = await fetch(`${s.stack.ivs.url}/_emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ operation: "CreateStage", delayMs: 800 }),
    });
    expect(fault.status).toBe(200);
    s.stack.ivs.resetCounts();
    const pending = create(alice, body, key);
    // Only once the stage is being created: a test that cut DynamoDB earlier would prove nothing about cleanup.
    await waitFor(() => (s.stack.ivs.requestCounts().CreateStage ?? 0) >= 1, "CreateStage");
    s.stack.dynamodb.setReachable(false);
    const r = await pending;
    s.stack.dynamodb.setReachable(true);
    return r;
  }

  it("503 with Retry-After; the stage is deleted again and no record is left", async () => {
    const s = stack();
    const name = uniqueName("orphan");
    const before = await s.scanTable();
    const r = await createWhileDynamoDbFails({ name, title: "Never saved" });
    expect(r.status, r.text).toBe(503);
    expect(r.body).toMatchObject({ status: 503, code: "upstream_unavailable" });
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const counts = s.stack.ivs.requestCounts();
    expect(counts.CreateStage).toBe(1);
    expect(counts.DeleteStage).toBe(1);
    expect(await stagesNamed(s, name)).toHaveLength(0);
    expect(await s.scanTable()).toEqual(before);
  });

  it("with an Idempotency-Key: nothing is left behind, and the retry creates the room with one stage", async () => {
    const s = stack();
    const name = uniqueName("orphan-key");
    const before = await s.scanTable();
    const r = await createWhileDynamoDbFails({ name }, "key-orphan");
    expect(r.status, r.text).toBe(503);
    expect(await stagesNamed(s, name)).toHaveLength(0);
    expect(await s.scanTable()).toEqual(before);
    const retry = await create(alice, { name }, "key-orphan");
    expect(retry.status, retry.text).toBe(201);
    expect(await stagesNamed(s, name)).toHaveLength(1);
    const again = await create(alice, { name }, "key-orphan");
    expect(again.body.roomId).toBe(retry.body.roomId);
    expect(await stagesNamed(s, name)).toHaveLength(1);
  });

  it.each([429, 500, 503])(
    "IVS failing CreateStage with %i answers 429 or 503 with Retry-After and writes nothing; a retry creates the room",
    async (status) => {
      const s = stack();
      const name = uniqueName(`ivs-down-${status}`);
      await fetch(`${s.stack.ivs.url}/_emulator/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ operation: "CreateStage", status, count: 1000 }),
      });
      const before = await s.scanTable();
      const r = await create(alice, { name }, `key-ivs-down-${status}`);
      expect(r.status, r.text).toBe(status === 429 ? 429 : 503);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
      expect(r.body.code).toBe(status === 429 ? "rate_limited" : "upstream_unavailable");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await s.scanTable()).toEqual(before);
      expect(await stagesNamed(s, name)).toHaveLength(0);
      await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });
      expect((await create(alice, { name }, `key-ivs-down-${status}`)).status).toBe(201);
    },
  );
});

describe("IVS's stage quota", () => {
  it("answers 409 quota_exceeded and writes nothing; the same key works once a stage is freed", async () => {
    const s = stack();
    const fillers: string[] = [];
    try {
      // Up to the emulator's quota, whatever other suites left on it (IVS's 100 on a stack of its own, more on the
      // shared one): until CreateStage is refused for the quota.
      const existing = (await allStages(s)).length;
      let refused: unknown;
      while (refused === undefined && fillers.length <= SHARED_IVS_MAX_STAGES) {
        const batch = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            s.ivs.send(new CreateStageCommand({ name: `filler-${fillers.length + i}` })),
          ),
        );
        for (const r of batch) {
          if (r.status === "fulfilled") fillers.push(r.value.stage!.arn!);
          else refused ??= r.reason;
        }
      }
      expect((refused as Error | undefined)?.name).toBe("ServiceQuotaExceededException");
      expect((await allStages(s)).length).toBe(existing + fillers.length);
      const before = await s.scanTable();
      const name = uniqueName("quota");
      const r = await create(alice, { name }, "key-quota");
      expect(r.status, r.text).toBe(409);
      expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 409, code: "quota_exceeded" });
      expect((await create(alice, { name })).body.code).toBe("quota_exceeded");
      expect(await s.scanTable()).toEqual(before);
      await s.ivs.send(new DeleteStageCommand({ arn: fillers.pop()! }));
      const retry = await create(alice, { name }, "key-quota");
      expect(retry.status, retry.text).toBe(201);
    } finally {
      for (let i = 0; i < fillers.length; i += 20) {
        await Promise.all(fillers.slice(i, i + 20).map((arn) => s.ivs.send(new DeleteStageCommand({ arn }))));
      }
    }
  });
});
