// Faults injected through the emulator's fault route and by cutting DynamoDB off mid-run, on the routes around the
// token path and room creation (their own faults: tests/e2e/token-faults.test.ts, tests/e2e/rooms-integrity.test.ts).
// Each ends in a 503 with Retry-After (never a 500), or in a kick the queue completes, and afterwards the invariants
// hold for this suite's rooms: no orphan stage, no room without a stage, no participant record for a token that was
// never returned.
import { ListStagesCommand } from "@aws-sdk/client-ivs-realtime";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { useStack, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

async function fault(s: TestStack, body: Record<string, unknown>) {
  const r = await fetch(`${s.stack.ivs.url}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(r.status).toBeLessThan(300);
}

/** Stage ids in IVS, room ids in the table, and the participant ids the table records for `roomId`. */
async function snapshot(s: TestStack, roomId?: string) {
  const stages: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await s.ivs.send(new ListStagesCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
    stages.push(...(out.stages ?? []).map((st) => st.arn!.split("/").pop()!));
    nextToken = out.nextToken;
  } while (nextToken);
  const items = await s.scanTable();
  const rooms = items
    .filter((i) => i.sk && (i.sk as { S: string }).S === "ROOM")
    .map((i) => (i.roomId as { S: string }).S);
  const participants = items
    .filter((i) => (i.pk as { S: string }).S === `ROOM#${roomId}` && (i.sk as { S: string }).S.startsWith("PART#"))
    .map((i) => (i.participantId as { S: string }).S);
  return { stages: stages.sort(), rooms: rooms.sort(), participants };
}

/** Stages and rooms before this suite began: other suites' (the stack is shared), left out of the invariants. */
let before: { stages: Set<string>; rooms: Set<string> };

async function expectInvariants(s: TestStack, returnedParticipants: Set<string>) {
  const snap = await snapshot(s, room.roomId);
  const ours = (ids: string[], earlier: Set<string>) => ids.filter((id) => !earlier.has(id));
  expect(ours(snap.stages, before.stages), "no orphan stage and no room without a stage").toEqual(
    ours(snap.rooms, before.rooms),
  );
  for (const p of snap.participants)
    expect(returnedParticipants.has(p), `participant ${p} was recorded but its token never returned`).toBe(true);
}

function expectRetryable(r: { status: number; headers: Headers; body: any; text: string }, status: number) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(r.body.code).toBe(status === 429 ? "rate_limited" : "upstream_unavailable");
}

const returned = new Set<string>();
let owner: Session;
let room: { roomId: string };

const token = async (s: TestStack, as: Session) => {
  const r = await s.api("POST", `/rooms/${room.roomId}/token`, { as, body: {} });
  if (r.status === 200) returned.add(r.body.participantId);
  return r;
};

// The suite's room, and a token of its owner's: every test below uses them, so they are made before any test runs.
beforeAll(async () => {
  const s = stack();
  const snap = await snapshot(s);
  before = { stages: new Set(snap.stages), rooms: new Set(snap.rooms) };
  owner = await s.login("faults-owner", { groups: ["admin"] });
  room = await s.createRoom(owner);
  const first = await token(s, owner);
  expect(first.status, first.text).toBe(200);
});

describe("injected faults", () => {
  afterEach(async () => {
    const s = stack();
    s.stack.dynamodb.setReachable(true);
    await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });
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
    const kick = await s.api("POST", `/rooms/${room.roomId}/kick`, {
      as: owner,
      body: { participantId: t.body.participantId },
    });
    expect(kick.status, kick.text).toBe(200);
    expect([...kick.body.disconnected, ...kick.body.pending]).toContain(t.body.participantId);
    await s.stack.queues.queues.get("DisconnectQueue")!.drained(30_000);
    const state = (await s.participants(room.roomId)).find((p) => p.participantId === t.body.participantId);
    expect(state?.state).toBe("DISCONNECTED");
  });

  it.each([
    ["POST", "/token"],
    ["GET", ""],
    ["GET", "/members"],
    ["POST", "/kick"],
    ["GET", "/audit"],
  ])("DynamoDB unreachable: %s /rooms/{id}%s → 503 with Retry-After", async (method, suffix) => {
    const s = stack();
    s.stack.dynamodb.setReachable(false);
    const r = await s.api(method, `/rooms/${room.roomId}${suffix}`, {
      as: owner,
      ...(method === "POST" ? { body: suffix === "/kick" ? { userId: owner.sub } : {} } : {}),
    });
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
