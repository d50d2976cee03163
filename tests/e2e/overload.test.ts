// Overload without collateral damage, through the offline stack (docs/api.md § Overload): the per-user token limit
// is charged before IVS is asked, so a burst from one user costs IVS no more calls than the limit; a burst never
// turns into 5xx; a request that gets no token because IVS failed does not count against its user.
// Its own stack, with TOKEN_RATE_PER_MINUTE=30.
import { describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

const LIMIT = 30;
const stack = useStack({ env: { ...process.env, TOKEN_RATE_PER_MINUTE: String(LIMIT) } });

const minuteNow = () => Math.floor(Date.now() / 60_000);

/** IVS's own count of the calls it received, through the emulator's stats route. */
async function createParticipantTokenCalls(s: TestStack): Promise<number> {
  const r = await fetch(`${s.stack.ivs.url}/_emulator/stats`);
  return ((await r.json()) as { requests: Record<string, number> }).requests.CreateParticipantToken ?? 0;
}
const resetStats = (s: TestStack) => fetch(`${s.stack.ivs.url}/_emulator/stats`, { method: "DELETE" });

async function fault(s: TestStack, rule: Record<string, unknown>) {
  const r = await fetch(`${s.stack.ivs.url}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rule),
  });
  expect(r.status).toBe(200);
}
const clearFaults = (s: TestStack) => fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });

const token = (s: TestStack, as: Session, roomId: string) => s.api("POST", `/rooms/${roomId}/token`, { as });

function tally(results: ApiResponse[]): Record<string, number> {
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return statuses;
}

/** The distinct answers other than a token, for a failure's message. */
const unexpected = (results: ApiResponse[]) =>
  [
    ...new Set(
      results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body?.detail ?? r.text.slice(0, 120)}`),
    ),
  ].join("; ");

function expectRateLimited(r: ApiResponse) {
  expect({ status: r.status, code: r.body?.code }, r.text).toEqual({ status: 429, code: "rate_limited" });
  expect(r.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
}

/** The user's token counter for the minute, as DynamoDB Local holds it (undefined when there is none). */
async function counter(s: TestStack, roomId: string, user: Session, minute: number): Promise<number | undefined> {
  const item = (await s.scanTable()).find(
    (i: any) => i.pk.S === `ROOM#${roomId}` && i.sk.S === `RATE#${user.sub}#${minute}`,
  ) as any;
  return item ? Number(item.count.N) : undefined;
}

/**
 * Runs `burst` as a fresh user until one run stays within one minute: the limit is per minute, so a run that
 * straddles a minute boundary may rightly get up to twice the limit.
 */
async function inOneMinute<T>(
  s: TestStack,
  name: string,
  burst: (user: Session) => Promise<T>,
): Promise<{ user: Session; result: T }> {
  for (let attempt = 0; ; attempt++) {
    const user = await s.login(`${name}-${attempt}`);
    const minute = minuteNow();
    const result = await burst(user);
    if (minuteNow() === minute || attempt >= 2) return { user, result };
  }
}

describe("a burst from one user", () => {
  it(`100 concurrent token requests with a limit of ${LIMIT}: exactly ${LIMIT} tokens, 70 × 429, and at most ${LIMIT} calls to IVS`, async () => {
    const s = stack();
    const owner = await s.login("ov-owner");
    const room = await s.createRoom(owner, { name: "overload-100" });
    await resetStats(s);
    const { result } = await inOneMinute(s, "ov-100", async (user) => {
      await resetStats(s);
      const results = await Promise.all(Array.from({ length: 100 }, () => token(s, user, room.roomId)));
      return { results, calls: await createParticipantTokenCalls(s) };
    });
    expect(tally(result.results), unexpected(result.results)).toEqual({ 200: LIMIT, 429: 100 - LIMIT });
    for (const r of result.results.filter((x) => x.status === 429)) expectRateLimited(r);
    // Charged before IVS: the refused requests cost IVS nothing.
    expect(result.calls).toBeLessThanOrEqual(LIMIT);
    expect(result.calls).toBe(LIMIT);
    const participants = new Set(result.results.filter((r) => r.status === 200).map((r) => r.body.participantId));
    expect(participants.size).toBe(LIMIT);
  }, 120_000);

  it("500 concurrent token requests: only 200 and 429, never a 5xx", async () => {
    const s = stack();
    const owner = await s.login("ov-owner");
    const room = await s.createRoom(owner, { name: "overload-500" });
    const { result } = await inOneMinute(s, "ov-500", async (user) => {
      await resetStats(s);
      const results = await Promise.all(Array.from({ length: 500 }, () => token(s, user, room.roomId)));
      return { results, calls: await createParticipantTokenCalls(s) };
    });
    const statuses = tally(result.results);
    expect(Object.keys(statuses).sort(), `${JSON.stringify(statuses)}: ${unexpected(result.results)}`).toEqual([
      "200",
      "429",
    ]);
    expect(statuses[200]).toBe(LIMIT);
    expect(result.calls).toBe(LIMIT);
    for (const r of result.results.filter((x) => x.status === 429)) expectRateLimited(r);
  }, 180_000);
});

describe("a burst from many users", () => {
  it("500 concurrent token requests from 500 users: every one gets its token", async () => {
    const s = stack();
    const owner = await s.login("ov-owner");
    const room = await s.createRoom(owner, { name: "overload-crowd" });
    const users: Session[] = [];
    for (let i = 0; i < 500; i += 50)
      users.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => s.login(`ov-crowd-${i + j}`)))));
    await resetStats(s);
    const results = await Promise.all(users.map((user) => token(s, user, room.roomId)));
    expect(tally(results), unexpected(results)).toEqual({ 200: 500 });
    expect(new Set(results.map((r) => r.body.userId)).size).toBe(500);
    expect(await createParticipantTokenCalls(s)).toBe(500);
  }, 180_000);
});

describe("a request that gets no token does not count against its user", () => {
  it("IVS failing after the charge: 503, and the charge is given back", async () => {
    const s = stack();
    const owner = await s.login("ov-owner");
    const room = await s.createRoom(owner, { name: "overload-refund" });
    const { user, result } = await inOneMinute(s, "ov-refund", async (u) => {
      await fault(s, { operation: "CreateParticipantToken", status: 503, count: 1000 });
      await resetStats(s);
      const failed = await Promise.all(Array.from({ length: 3 }, () => token(s, u, room.roomId)));
      const calls = await createParticipantTokenCalls(s);
      await clearFaults(s);
      return { failed, calls, minute: minuteNow() };
    });
    for (const r of result.failed) {
      expect({ status: r.status, code: r.body?.code }, r.text).toEqual({ status: 503, code: "upstream_unavailable" });
      expect(r.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    }
    // IVS was asked (and retried): the charge came first, and was given back.
    expect(result.calls).toBeGreaterThanOrEqual(3);
    expect(await counter(s, room.roomId, user, result.minute)).toBe(0);

    // The whole minute's allowance is still the user's (within this minute).
    if (minuteNow() === result.minute) {
      const ok = await Promise.all(Array.from({ length: LIMIT }, () => token(s, user, room.roomId)));
      if (minuteNow() === result.minute) {
        expect(tally(ok)).toEqual({ 200: LIMIT });
        expect(await counter(s, room.roomId, user, result.minute)).toBe(LIMIT);
        expectRateLimited(await token(s, user, room.roomId));
      }
    }
  }, 120_000);

  it("IVS throttling past the retries: 429, and the charge is given back", async () => {
    const s = stack();
    const owner = await s.login("ov-owner");
    const room = await s.createRoom(owner, { name: "overload-throttled" });
    const user = await s.login("ov-throttled");
    await fault(s, { operation: "CreateParticipantToken", status: 429, count: 1000 });
    const minute = minuteNow();
    const r = await token(s, user, room.roomId);
    await clearFaults(s);
    expectRateLimited(r);
    expect(await counter(s, room.roomId, user, minute)).toBe(0);
  }, 60_000);
});
