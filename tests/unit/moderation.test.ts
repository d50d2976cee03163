// Kicks, bans and members as use cases (functions/moderation/kick.ts, functions/rooms/members.ts) on in-memory fakes
// of their ports: the table, IVS, the disconnect queue and the user pool. Who may kick or ban whom, a ban written
// before the disconnects, what IVS could not do in time queued for the worker, and a change of role disconnecting
// what the new role no longer allows. Through the offline stack: tests/e2e/moderation.test.ts, members.test.ts.
import { describe, expect, it } from "vitest";
import { kick } from "../../functions/moderation/kick.ts";
import { deleteMemberRoute, putMemberRoute } from "../../functions/rooms/members.ts";
import { createRoom } from "../../functions/rooms/create-room.ts";
import { issueToken } from "../../functions/token/issue-token.ts";
import type { Caller } from "../../shared/auth/caller.ts";
import { ForbiddenError, NotFoundError, ValidationError } from "../../shared/errors.ts";
import { caller, FakeIssuer, fakeDeps, request, throttled } from "../support/fakes.ts";

const owner = caller("0a0a0a0a-0000-4000-8000-0000000000a1");
const mod = caller("0b0b0b0b-0000-4000-8000-0000000000b2");
const viewer = caller("0c0c0c0c-0000-4000-8000-0000000000c3");
const speaker = caller("0d0d0d0d-0000-4000-8000-0000000000d4");
const admin = caller("0e0e0e0e-0000-4000-8000-0000000000e5", { admin: true });

/** A room made by createRoom, with `mod` a host member; tokens issued through the token path on the same fakes. */
async function setup(policy?: Record<string, unknown>) {
  const fakes = fakeDeps();
  const { deps, table, clock } = fakes;
  const created = await createRoom(deps, request(owner, { body: { name: "room", ...(policy ? { policy } : {}) } }));
  const room = created.body as { roomId: string; stageArn: string };
  const roomId = room.roomId;
  const issuer = new FakeIssuer(clock.now);
  const token = async (who: Caller, body?: unknown) => {
    const r = await issueToken(
      { config: deps.config, table: table.tokenTable, issuer, now: clock.now },
      request(who, {
        routeKey: "POST /rooms/{roomId}/token",
        pathParameters: { roomId },
        ...(body !== undefined ? { body } : {}),
      }),
    );
    return String((r.body as { participantId: string }).participantId);
  };
  const setMember = (as: Caller, userId: string, role: string) =>
    putMemberRoute(
      deps,
      request(as, {
        routeKey: "PUT /rooms/{roomId}/members/{userId}",
        pathParameters: { roomId, userId },
        body: { role },
      }),
    );
  const removeMember = (as: Caller, userId: string) =>
    deleteMemberRoute(
      deps,
      request(as, { routeKey: "DELETE /rooms/{roomId}/members/{userId}", pathParameters: { roomId, userId } }),
    );
  const kickAs = (as: Caller, body: unknown, deadline?: number) =>
    kick(deps, {
      ...request(as, { routeKey: "POST /rooms/{roomId}/kick", pathParameters: { roomId }, body }),
      ...(deadline !== undefined ? { deadline } : {}),
    });
  await setMember(owner, mod.userId, "host");
  const audit = () => table.partition(`AUDIT#${roomId}`).map((e) => String(e.action));
  return { ...fakes, room, roomId, token, setMember, removeMember, kickAs, audit };
}

describe("kick", () => {
  it("a moderator kicks one participant: IVS disconnects it, the kick is audited, nobody is banned", async () => {
    const { kickAs, token, ivs, room, audit, table, roomId } = await setup();
    const p = await token(viewer);
    const r = await kickAs(mod, { participantId: p, reason: "spam" });
    expect(r).toEqual({ status: 200, body: { disconnected: [p], pending: [], ban: null } });
    expect(ivs.disconnected).toEqual([{ stageArn: room.stageArn, participantId: p, reason: "spam" }]);
    expect(audit()).toContain("participant.kicked");
    expect(table.partition(`ROOM#${roomId}`, "BAN#")).toEqual([]);
  });

  it("a kick with a ban writes the ban first and reaches every participant of the user", async () => {
    const { kickAs, token, ivs, audit, table, roomId, clock } = await setup();
    const [a, b] = [await token(viewer), await token(viewer)];
    // The ban before the disconnects: a token issued meanwhile is refused by its own transaction.
    const banned: boolean[] = [];
    ivs.onCall = (op) => {
      if (op === "DisconnectParticipant")
        banned.push(table.get({ pk: `ROOM#${roomId}`, sk: `BAN#${viewer.userId}` }) !== undefined);
    };
    const r = await kickAs(mod, { userId: viewer.userId, banMinutes: 10, reason: "spam" });
    expect(banned).toEqual([true, true]);
    const until = new Date(clock.now() + 10 * 60_000).toISOString();
    expect(r.body).toEqual({
      disconnected: expect.arrayContaining([a, b]),
      pending: [],
      ban: { userId: viewer.userId, until, reason: "spam" },
    });
    expect(ivs.disconnected.map((d) => d.participantId).sort()).toEqual([a, b].sort());
    expect(table.partition(`ROOM#${roomId}`, `BAN#${viewer.userId}`)).toEqual([
      expect.objectContaining({ until, bannedBy: mod.userId }),
    ]);
    expect(audit()).toEqual(expect.arrayContaining(["user.banned", "participant.kicked"]));
  });

  it("refuses without writing or disconnecting: a viewer kicking, a moderator kicking the owner, anyone banning an admin", async () => {
    const { kickAs, token, ivs, table, userPool } = await setup();
    const ownerP = await token(owner);
    await token(viewer);
    const before = table.snapshot();
    await expect(kickAs(viewer, { participantId: ownerP })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(kickAs(mod, { participantId: ownerP })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(kickAs(owner, { userId: owner.userId, banMinutes: 5 })).rejects.toBeInstanceOf(ForbiddenError);
    // An admin who never took a token here: the user pool says so.
    userPool.groups.set(admin.userId, ["admin"]);
    await expect(kickAs(owner, { userId: admin.userId, banMinutes: 5 })).rejects.toBeInstanceOf(ForbiddenError);
    expect(userPool.calls).toContain("AdminListGroupsForUserCommand");
    expect(table.snapshot()).toEqual(before);
    expect(ivs.disconnected).toEqual([]);
  });

  it("400 for both or neither of participantId and userId; 404 for a participant not issued in this room", async () => {
    const { kickAs, token } = await setup();
    const p = await token(viewer);
    await expect(kickAs(owner, { participantId: p, userId: viewer.userId })).rejects.toBeInstanceOf(ValidationError);
    await expect(kickAs(owner, {})).rejects.toBeInstanceOf(ValidationError);
    await expect(kickAs(owner, { participantId: "NotIssuedHere00000001" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("IVS throttling the disconnect: 200 with the participant pending, queued for the disconnect worker", async () => {
    const { kickAs, token, ivs, queue, room, roomId } = await setup();
    const p = await token(viewer);
    ivs.fail("DisconnectParticipant", throttled, 1_000);
    const r = await kickAs(owner, { participantId: p, reason: "later" }, Date.now() + 300);
    expect(r.body).toEqual({ disconnected: [], pending: [p], ban: null });
    expect(queue.messages).toEqual([{ roomId, stageArn: room.stageArn, participantId: p, reason: "later" }]);
  });
});

describe("members", () => {
  it("a moderator sets viewers and speakers; only the owner or an admin grants, changes or removes a moderator role", async () => {
    const { setMember, removeMember, table, roomId } = await setup();
    expect((await setMember(mod, viewer.userId, "speaker")).status).toBe(200);
    const before = table.snapshot();
    await expect(setMember(mod, viewer.userId, "host")).rejects.toBeInstanceOf(ForbiddenError);
    await expect(setMember(mod, mod.userId, "viewer")).rejects.toBeInstanceOf(ForbiddenError);
    await expect(removeMember(mod, mod.userId)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(setMember(viewer, speaker.userId, "viewer")).rejects.toBeInstanceOf(ForbiddenError);
    expect(table.snapshot()).toEqual(before);
    expect((await setMember(admin, viewer.userId, "host")).status).toBe(200);
    expect((await removeMember(owner, mod.userId)).status).toBe(204);
    expect(table.partition(`ROOM#${roomId}`, "MEMBER#").map((m) => [m.userId, m.role])).toEqual([
      [viewer.userId, "host"],
    ]);
  });

  it("400 for a role the room's policy lacks, 404 for removing a non-member; nothing changes", async () => {
    const { setMember, removeMember, table } = await setup();
    const before = table.snapshot();
    await expect(setMember(owner, viewer.userId, "director")).rejects.toBeInstanceOf(ValidationError);
    await expect(removeMember(owner, viewer.userId)).rejects.toBeInstanceOf(NotFoundError);
    expect(table.snapshot()).toEqual(before);
  });

  it("a demoted speaker's publishing participants are disconnected; subscribe-only ones stay; it is audited", async () => {
    const { setMember, token, ivs, audit } = await setup();
    await setMember(owner, speaker.userId, "speaker");
    const publishing = await token(speaker);
    const listening = await token(speaker, { capabilities: ["SUBSCRIBE"] });
    await setMember(owner, speaker.userId, "viewer");
    expect(ivs.disconnected.map((d) => d.participantId)).toEqual([publishing]);
    expect(ivs.disconnected.map((d) => d.participantId)).not.toContain(listening);
    expect(audit().filter((a) => a.startsWith("member."))).toEqual(["member.set", "member.set", "member.set"]);
  });

  it("a member removed from a members-only room loses every participant; from an open room, keeps what viewers may", async () => {
    const closed = await setup({ access: "members" });
    await closed.setMember(owner, viewer.userId, "viewer");
    const p = await closed.token(viewer);
    expect((await closed.removeMember(owner, viewer.userId)).status).toBe(204);
    expect(closed.ivs.disconnected.map((d) => d.participantId)).toEqual([p]);
    expect(closed.audit()).toContain("member.removed");

    const open = await setup();
    await open.setMember(owner, viewer.userId, "viewer");
    await open.token(viewer);
    await open.removeMember(owner, viewer.userId);
    expect(open.ivs.disconnected).toEqual([]);
  });
});
