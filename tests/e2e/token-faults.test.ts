// Participant tokens when IVS or DynamoDB fail, and the per-user rate limit (docs/api.md § Participant tokens, § What
// the limits of IVS mean here): throttling → 429, failures and timeouts → 503, both with Retry-After, never a
// 500, no participant record left for a token that was not returned, and its charge given back.
import { afterEach, describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

const post = (s: TestStack, as: Session, roomId: string, body?: unknown) =>
  s.api("POST", `/rooms/${roomId}/token`, { as, ...(body !== undefined ? { body } : {}) });

async function fault(s: TestStack, rule: Record<string, unknown>) {
  const r = await fetch(`${s.stack.ivs.url}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rule),
  });
  expect(r.status).toBe(200);
}
async function clearFaults(s: TestStack) {
  await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });
}

/** Participant, pointer and counter items of one room, as DynamoDB Local holds them. */
async function roomRecords(s: TestStack, roomId: string) {
  return (await s.scanTable()).filter((i: any) => i.pk.S === `ROOM#${roomId}` && /^(PART|PID|RATE)#/.test(i.sk.S));
}

/** Participant and pointer items of one room: what a returned token leaves behind. */
async function issuedRecords(s: TestStack, roomId: string) {
  return (await roomRecords(s, roomId)).filter((i: any) => !i.sk.S.startsWith("RATE#"));
}

/** What the user's counters hold in this room, all minutes together: the tokens charged to them. */
async function charged(s: TestStack, roomId: string, user: Session) {
  return (await roomRecords(s, roomId))
    .filter((i: any) => i.sk.S.startsWith(`RATE#${user.sub}#`))
    .reduce((n: number, i: any) => n + Number(i.count.N), 0);
}

function expectRetryable(r: ApiResponse, status: 429 | 503) {
  expect({ status: r.status, code: r.body?.code }, r.text).toEqual({
    status,
    code: status === 429 ? "rate_limited" : "upstream_unavailable",
  });
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  const retryAfter = r.headers.get("retry-after");
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  return Number(retryAfter);
}

afterEach(async () => {
  const s = stack();
  await clearFaults(s);
  s.stack.dynamodb.setReachable(true);
});

describe("IVS faults", () => {
  it("retries a throttled or failed call and then succeeds", async () => {
    const s = stack();
    const owner = await s.login("f-owner");
    const viewer = await s.login("f-viewer");
    const room = await s.createRoom(owner, { name: "faults-once" });
    for (const status of [429, 500, 503]) {
      await fault(s, { operation: "CreateParticipantToken", status, count: 2 });
      s.stack.ivs.resetCounts();
      const r = await post(s, viewer, room.roomId);
      expect(r.status, `${status}: ${r.text}`).toBe(200);
      expect(s.stack.ivs.requestCounts().CreateParticipantToken).toBe(3);
      expect((await s.join(r.body.token)).status).toBe(200);
    }
  });

  it("answers 429 with Retry-After when IVS keeps throttling, and records nothing", async () => {
    const s = stack();
    const owner = await s.login("f429-owner");
    const viewer = await s.login("f429-viewer");
    const room = await s.createRoom(owner, { name: "faults-429" });
    const before = await issuedRecords(s, room.roomId);
    await fault(s, { operation: "CreateParticipantToken", status: 429, count: 1000 });
    s.stack.ivs.resetCounts();
    const r = await post(s, viewer, room.roomId);
    expectRetryable(r, 429);
    // Retried with backoff, within a bounded budget; and few times: under throttling every call spends more of the
    // account's quota.
    expect(s.stack.ivs.requestCounts().CreateParticipantToken).toBeGreaterThan(1);
    expect(s.stack.ivs.requestCounts().CreateParticipantToken).toBeLessThanOrEqual(4);
    expect(await issuedRecords(s, room.roomId)).toEqual(before);
    expect(await charged(s, room.roomId, viewer)).toBe(0);
    await clearFaults(s);
    expect((await post(s, viewer, room.roomId)).status).toBe(200);
  });

  it("answers 503 with Retry-After when IVS keeps failing, and records nothing", async () => {
    const s = stack();
    const owner = await s.login("f5xx-owner");
    const viewer = await s.login("f5xx-viewer");
    const room = await s.createRoom(owner, { name: "faults-5xx" });
    const before = await issuedRecords(s, room.roomId);
    for (const status of [500, 503]) {
      await fault(s, { operation: "CreateParticipantToken", status, count: 1000 });
      expectRetryable(await post(s, viewer, room.roomId), 503);
      await clearFaults(s);
    }
    expect(await issuedRecords(s, room.roomId)).toEqual(before);
    expect(await charged(s, room.roomId, viewer)).toBe(0);
  });

  it("abandons an IVS call that does not answer in time: 503 with Retry-After, well inside the function's timeout", async () => {
    const s = stack();
    const owner = await s.login("fto-owner");
    const viewer = await s.login("fto-viewer");
    const room = await s.createRoom(owner, { name: "faults-timeout" });
    const before = await issuedRecords(s, room.roomId);
    await fault(s, { operation: "CreateParticipantToken", delayMs: 20_000, count: 1000 });
    const r = await post(s, viewer, room.roomId);
    expectRetryable(r, 503);
    await clearFaults(s);
    // The slow calls may still complete inside the emulator later; stagepass never recorded their tokens.
    expect(await issuedRecords(s, room.roomId)).toEqual(before);
    expect(await charged(s, room.roomId, viewer)).toBe(0);
  });
});

describe("DynamoDB faults", () => {
  it("answers 503 with Retry-After when DynamoDB is unreachable, before or after the IVS call, and leaves nothing behind", async () => {
    const s = stack();
    const owner = await s.login("fd-owner");
    const viewer = await s.login("fd-viewer");
    const room = await s.createRoom(owner, { name: "faults-ddb" });
    const before = await issuedRecords(s, room.roomId);

    s.stack.dynamodb.setReachable(false);
    s.stack.ivs.resetCounts();
    expectRetryable(await post(s, viewer, room.roomId), 503);
    expect(s.stack.ivs.requestCounts()).toEqual({});
    s.stack.dynamodb.setReachable(true);

    // Cut DynamoDB off while the IVS call is in flight: the token was created in IVS but is never handed out.
    await fault(s, { operation: "CreateParticipantToken", delayMs: 1_000 });
    const pending = post(s, viewer, room.roomId);
    await new Promise((r) => setTimeout(r, 500));
    s.stack.dynamodb.setReachable(false);
    const r = await pending;
    s.stack.dynamodb.setReachable(true);
    expectRetryable(r, 503);
    expect(r.body.token).toBeUndefined();
    expect(r.text).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(await issuedRecords(s, room.roomId)).toEqual(before);
    // Its charge could not be given back while DynamoDB was cut off: it stays, one token of that minute (and only
    // that minute) fewer for the user.
    expect(await charged(s, room.roomId, viewer)).toBeLessThanOrEqual(1);

    expect((await post(s, viewer, room.roomId)).status).toBe(200);
  });
});

describe("rate limit", () => {
  it("the 11th token in a minute is 429 with Retry-After; admins and other rooms are not affected", async () => {
    const s = stack();
    const owner = await s.login("rl-owner");
    const admin = await s.login("rl-admin", { groups: ["admin"] });
    const room = await s.createRoom(owner, { name: "rate" });
    const other = await s.createRoom(owner, { name: "rate-other" });

    // Run within one minute; if the burst straddled a minute boundary the counter reset midway, so run it again
    // (with a new user: the first one's counter for the new minute is already in use).
    for (let attempt = 0; ; attempt++) {
      const viewer = await s.login(`rl-viewer-${attempt}`);
      const minute = Math.floor(Date.now() / 60_000);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await post(s, viewer, room.roomId)).status);
      const eleventh = await post(s, viewer, room.roomId);
      const straddled = Math.floor(Date.now() / 60_000) !== minute;
      if (straddled && attempt === 0) continue;
      expect(statuses).toEqual(Array(10).fill(200));
      const retryAfter = expectRetryable(eleventh, 429);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(Date.now() + retryAfter * 1000).toBeGreaterThanOrEqual((minute + 1) * 60_000);
      // The refused request was not recorded.
      const records = await roomRecords(s, room.roomId);
      expect(records.filter((i: any) => i.sk.S.startsWith(`PART#${viewer.sub}#`))).toHaveLength(10);
      const counter = records.find((i: any) => i.sk.S === `RATE#${viewer.sub}#${minute}`) as any;
      expect(Number(counter.count.N)).toBe(10);
      // Per room: the same user still gets a token elsewhere.
      if (Math.floor(Date.now() / 60_000) === minute) expect((await post(s, viewer, other.roomId)).status).toBe(200);
      break;
    }

    const adminStatuses: number[] = [];
    for (let i = 0; i < 12; i++) adminStatuses.push((await post(s, admin, room.roomId)).status);
    expect(adminStatuses).toEqual(Array(12).fill(200));
  });

  it("holds under concurrency: exactly 10 of 14 simultaneous requests get a token", async () => {
    const s = stack();
    const owner = await s.login("rc-owner");
    const room = await s.createRoom(owner, { name: "rate-concurrent" });
    for (let attempt = 0; ; attempt++) {
      const viewer = await s.login(`rc-viewer-${attempt}`);
      const minute = Math.floor(Date.now() / 60_000);
      const results = await Promise.all(Array.from({ length: 14 }, () => post(s, viewer, room.roomId)));
      if (Math.floor(Date.now() / 60_000) !== minute && attempt === 0) continue;
      const ok = results.filter((r) => r.status === 200);
      // Exactly the limit: the charges that raced for the counter are applied one at a time, none lost to a conflict.
      expect(results.map((r) => r.status).sort()).toEqual([...Array(10).fill(200), ...Array(4).fill(429)]);
      for (const r of results.filter((x) => x.status === 429)) expectRetryable(r, 429);
      // Every token handed out is recorded; nothing else is.
      const parts = (await roomRecords(s, room.roomId)).filter((i: any) => i.sk.S.startsWith(`PART#${viewer.sub}#`));
      expect(parts.map((i: any) => i.participantId.S).sort()).toEqual(ok.map((r) => r.body.participantId).sort());
      break;
    }
  });
});
