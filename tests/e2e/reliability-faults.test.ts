// Faults injected through the emulator's fault route and by cutting DynamoDB off mid-run. Each ends in a 429 or
// 503 with Retry-After (never a 500), and afterwards the invariants hold: no orphan stage, no room without a
// stage, no participant record for a token that was never returned.
import { ListStagesCommand } from "@aws-sdk/client-ivs-realtime";
import { afterEach, describe, expect, it } from "vitest";
import { useStack, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

async function fault(s: TestStack, body: Record<string, unknown>) {
  const r = await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(r.status).toBeLessThan(300);
}

/** Stage ids in IVS, room ids in the table, participant ids the table records. */
async function snapshot(s: TestStack) {
  const stages: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await s.ivs.send(new ListStagesCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
    stages.push(...(out.stages ?? []).map((st) => st.arn!.split("/").pop()!));
    nextToken = out.nextToken;
  } while (nextToken);
  const items = await s.scanTable();
  const rooms = items.filter((i) => i.sk && (i.sk as { S: string }).S === "ROOM").map((i) => (i.roomId as { S: string }).S);
  const participants = items.filter((i) => (i.sk as { S: string }).S.startsWith("PART#")).map((i) => (i.participantId as { S: string }).S);
  return { stages: stages.sort(), rooms: rooms.sort(), participants };
}

async function expectInvariants(s: TestStack, returnedParticipants: Set<string>) {
  const snap = await snapshot(s);
  expect(snap.stages, "no orphan stage and no room without a stage").toEqual(snap.rooms);
  for (const p of snap.participants) expect(returnedParticipants.has(p), `participant ${p} was recorded but its token never returned`).toBe(true);
}

function expectRetryable(r: { status: number; headers: Headers; body: any; text: string }, status: number) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(r.body.code).toBe(status === 429 ? "rate_limited" : "upstream_unavailable");
}

describe("injected faults", () => {
  const returned = new Set<string>();
  let owner: Session;
  let room: { roomId: string };

  afterEach(async () => {
    const s = stack();
    s.stack.dynamodb.setReachable(true);
    await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });
  });

  const token = async (s: TestStack, as: Session) => {
    const r = await s.api("POST", `/rooms/${room.roomId}/token`, { as, body: {} });
    if (r.status === 200) returned.add(r.body.participantId);
    return r;
  };

  it("sets up a room", async () => {
    const s = stack();
    owner = await s.login("faults-owner", { groups: ["admin"] });
    room = await s.createRoom(owner);
    expect((await token(s, owner)).status).toBe(200);
  });

  it("IVS throttling of CreateParticipantToken is retried: a short burst is absorbed", async () => {
    const s = stack();
    await fault(s, { operation: "CreateParticipantToken", status: 429, count: 2 });
    expect((await token(s, owner)).status).toBe(200);
    await expectInvariants(s, returned);
  });

  it("persistent IVS throttling ends in 429 with Retry-After and no participant record", async () => {
    const s = stack();
    await fault(s, { operation: "CreateParticipantToken", status: 429, count: 1000 });
    s.stack.ivs.resetCounts();
    expectRetryable(await token(s, owner), 429);
    // Retries are few: under throttling every call spends more of the account's quota.
    expect(s.stack.ivs.requestCounts().CreateParticipantToken).toBeLessThanOrEqual(4);
    expect(s.stack.ivs.requestCounts().CreateParticipantToken).toBeGreaterThanOrEqual(2);
    await expectInvariants(s, returned);
  });

  it.each([500, 503])("IVS %i on CreateParticipantToken → 503 with Retry-After", async (status) => {
    const s = stack();
    await fault(s, { operation: "CreateParticipantToken", status, count: 1000 });
    expectRetryable(await token(s, owner), 503);
    await expectInvariants(s, returned);
  });

  it("IVS latency beyond the budget → 503 well within the function's timeout", async () => {
    const s = stack();
    await fault(s, { operation: "CreateParticipantToken", delayMs: 20_000, count: 1000 });
    const started = Date.now();
    expectRetryable(await token(s, owner), 503);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectInvariants(s, returned);
  });

  it.each([429, 500, 503])("CreateStage failing with %i creates no room", async (status) => {
    const s = stack();
    await fault(s, { operation: "CreateStage", status, count: 1000 });
    const r = await s.api("POST", "/rooms", { as: owner, body: { name: "faulty" } });
    expectRetryable(r, status === 429 ? 429 : 503);
    await expectInvariants(s, returned);
  });

  it("DynamoDB unreachable while the room is written after CreateStage → 503 and the stage is deleted again", async () => {
    const s = stack();
    await fault(s, { operation: "CreateStage", delayMs: 700 });
    const pending = s.api("POST", "/rooms", { as: owner, body: { name: "halfway" } });
    await new Promise((r) => setTimeout(r, 300));
    s.stack.dynamodb.setReachable(false);
    const r = await pending;
    s.stack.dynamodb.setReachable(true);
    expectRetryable(r, 503);
    await expectInvariants(s, returned);
  });

  it("DeleteStage failing keeps the room whole; a retry deletes it", async () => {
    const s = stack();
    const doomed = await s.createRoom(owner, { name: "doomed" });
    await fault(s, { operation: "DeleteStage", status: 503, count: 1000 });
    expectRetryable(await s.api("DELETE", `/rooms/${doomed.roomId}`, { as: owner }), 503);
    expect((await s.api("GET", `/rooms/${doomed.roomId}`, { as: owner })).status).toBe(200);
    await expectInvariants(s, returned);
    await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });
    expect((await s.api("DELETE", `/rooms/${doomed.roomId}`, { as: owner })).status).toBe(204);
    await expectInvariants(s, returned);
  });

  it("DisconnectParticipant failing queues the kick (pending) and the worker completes it", async () => {
    const s = stack();
    const viewer = await s.login("faults-viewer");
    const t = await token(s, viewer);
    expect(t.status).toBe(200);
    expect((await s.join(t.body.token)).status).toBe(200);
    await fault(s, { operation: "DisconnectParticipant", status: 503, count: 3 });
    const kick = await s.api("POST", `/rooms/${room.roomId}/kick`, { as: owner, body: { participantId: t.body.participantId } });
    expect(kick.status, kick.text).toBe(200);
    expect([...kick.body.disconnected, ...kick.body.pending]).toContain(t.body.participantId);
    await s.stack.queues.queues.get("DisconnectQueue")!.drained(30_000);
    const state = (await s.participants(room.roomId)).find((p) => p.participantId === t.body.participantId);
    expect(state?.state).toBe("DISCONNECTED");
  });

  it.each([
    ["POST", "/token"], ["GET", ""], ["GET", "/members"], ["POST", "/kick"], ["GET", "/audit"],
  ])("DynamoDB unreachable: %s /rooms/{id}%s → 503 with Retry-After", async (method, suffix) => {
    const s = stack();
    s.stack.dynamodb.setReachable(false);
    const r = await s.api(method, `/rooms/${room.roomId}${suffix}`, { as: owner, ...(method === "POST" ? { body: suffix === "/kick" ? { userId: owner.sub } : {} } : {}) });
    s.stack.dynamodb.setReachable(true);
    expectRetryable(r, 503);
    await expectInvariants(s, returned);
  });

  it("DynamoDB unreachable on POST /rooms → 503 and no stage is left", async () => {
    const s = stack();
    s.stack.dynamodb.setReachable(false);
    const r = await s.api("POST", "/rooms", { as: owner, body: { name: "nodb" } });
    s.stack.dynamodb.setReachable(true);
    expectRetryable(r, 503);
    await expectInvariants(s, returned);
  });
});
