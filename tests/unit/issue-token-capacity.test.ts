// Capacity on the token path (functions/token/issue-token.ts with shared/live/capacity.ts), on in-memory fakes: the
// room's live counts come in the token path's one read (a fifth key of its BatchGetItem), a full stage or room is
// refused before the caller is charged or IVS is asked, and a token that is issued costs what it cost before:
// one read, one charge, one IVS call, one write.
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { createRoom } from "../../functions/rooms/create-room.ts";
import { issueToken, type TokenDeps } from "../../functions/token/issue-token.ts";
import type { Caller } from "../../shared/auth/caller.ts";
import { RoomFullError, StageFullError } from "../../shared/errors.ts";
import { caller, FakeIssuer, fakeDeps, request } from "../support/fakes.ts";

const owner = caller("0a0a0a0a-0000-4000-8000-0000000000a1");
const speaker = caller("0b0b0b0b-0000-4000-8000-0000000000b2", { displayName: "Sam" });

async function setup(policy: Record<string, unknown>, counts?: { connected: number; publishing: number }) {
  const fakes = fakeDeps();
  const created = await createRoom(fakes.deps, request(owner, { body: { name: "room", policy } }));
  const roomId = (created.body as { roomId: string }).roomId;
  if (counts) {
    await fakes.table.db.doc.send(
      new PutCommand({
        TableName: fakes.table.db.table,
        Item: {
          pk: `ROOM#${roomId}`,
          sk: "LIVE",
          ...counts,
          evidenceAt: fakes.clock.now() - 3_000,
          live: true,
          sessionId: "st-AAAAAAAAAAAAA",
          version: 3,
        },
      }),
    );
  }
  const issuer = new FakeIssuer(fakes.clock.now);
  const deps: TokenDeps = { config: fakes.deps.config, table: fakes.table.tokenTable, issuer, now: fakes.clock.now };
  const token = (who: Caller, body?: unknown) =>
    issueToken(
      deps,
      request(who, {
        routeKey: "POST /rooms/{roomId}/token",
        pathParameters: { roomId },
        ...(body !== undefined ? { body } : {}),
      }),
    );
  fakes.table.calls.length = 0;
  return { ...fakes, roomId, issuer, token };
}

describe("capacity on the token path", () => {
  it("room on stage: the token as before, at the same cost (the counts came with the one read)", async () => {
    const { token, table, issuer } = await setup({ defaultRole: "speaker" }, { connected: 4, publishing: 3 });
    const r = await token(speaker);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ capabilities: ["PUBLISH", "SUBSCRIBE"] });
    expect(r.body).not.toHaveProperty("limitedBy");
    expect(table.calls).toEqual(["BatchGetItem", "UpdateItem", "TransactWriteItems"]);
    expect(issuer.issued).toHaveLength(1);
  });

  it("stage full, capabilities by default: a SUBSCRIBE-only token with limitedBy, at the same cost", async () => {
    const { token, table, issuer } = await setup({ defaultRole: "speaker" }, { connected: 20, publishing: 12 });
    const r = await token(speaker);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ capabilities: ["SUBSCRIBE"], limitedBy: "stage_full", role: "speaker" });
    expect(issuer.issued).toEqual([expect.objectContaining({ capabilities: ["SUBSCRIBE"] })]);
    expect(table.calls).toEqual(["BatchGetItem", "UpdateItem", "TransactWriteItems"]);
  });

  it("stage full, PUBLISH asked for: 409 stage_full after the read alone (no charge, no IVS call, nothing written)", async () => {
    const { token, table, issuer } = await setup(
      { defaultRole: "speaker", maxPublishers: 2 },
      { connected: 3, publishing: 2 },
    );
    const before = table.snapshot();
    await expect(token(speaker, { capabilities: ["PUBLISH", "SUBSCRIBE"] })).rejects.toBeInstanceOf(StageFullError);
    expect(table.calls).toEqual(["BatchGetItem"]);
    expect(issuer.issued).toEqual([]);
    expect(table.snapshot()).toEqual(before);
  });

  it("room full: 409 room_full after the read alone; the owner (a moderator) still gets in", async () => {
    const { token, table, issuer } = await setup({ maxParticipants: 5 }, { connected: 5, publishing: 0 });
    await expect(token(speaker)).rejects.toBeInstanceOf(RoomFullError);
    expect(table.calls).toEqual(["BatchGetItem"]);
    expect(issuer.issued).toEqual([]);
    expect((await token(owner)).status).toBe(200);
  });

  it("a room with no live counts yet: no limit applies", async () => {
    const { token } = await setup({ defaultRole: "speaker", maxPublishers: 1, maxParticipants: 1 });
    expect((await token(speaker, { capabilities: ["PUBLISH"] })).body).toMatchObject({ capabilities: ["PUBLISH"] });
  });

  it("the display name and role are recorded on the participant's pointer (for the room's participant list)", async () => {
    const { token, table, roomId } = await setup({ defaultRole: "speaker" });
    const r = await token(speaker);
    const pid = String((r.body as { participantId: string }).participantId);
    expect(table.partition(`ROOM#${roomId}`, `PID#${pid}`)).toEqual([
      expect.objectContaining({ userId: speaker.userId, role: "speaker", displayName: "Sam" }),
    ]);
  });
});
