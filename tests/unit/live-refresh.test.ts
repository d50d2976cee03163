// Who reads IVS when (shared/live/refresh.ts), with in-memory fakes of the store, IVS and the clock: one read per room
// per interval however many callers and containers ask, nothing past the account's budget, the stored state served
// when IVS fails, events merged with optimistic locking.
import { describe, expect, it } from "vitest";
import { ROOM_READ_INTERVAL_MS, SLOT_MS } from "../../shared/live/budget.ts";
import {
  applyEvent,
  createLiveReader,
  updateLive,
  type IvsLiveReads,
  type LiveDeps,
  type LiveStorePort,
  type StoredLive,
} from "../../shared/live/refresh.ts";
import {
  applyStageEvent,
  emptyLiveState,
  liveCounts,
  type LiveState,
  type ParticipantSummary,
} from "../../shared/live/state.ts";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const ROOM = { roomId: "AbCdef1G2hij", stageArn: "arn:aws:ivs:us-east-1:123456789012:stage/AbCdef1G2hij" };
const SESSION = "st-AAAAAAAAAAAAA";

interface Fakes {
  deps: LiveDeps;
  clock: { now: number };
  ivsCalls: string[];
  writes: number;
  stored(): StoredLive;
  store: LiveStorePort & { rooms: Set<string>; slots: Set<string>; lookups: string[][] };
  participants: ParticipantSummary[];
  failIvs: boolean;
}

function fakes(): Fakes {
  const clock = { now: T0 };
  const data = new Map<string, { state: LiveState; version: number }>();
  const claims = new Map<string, number>();
  const f = {} as Fakes;
  const store: Fakes["store"] = {
    rooms: new Set([ROOM.roomId]),
    slots: new Set(),
    lookups: [],
    async read(roomId) {
      await Promise.resolve();
      const d = data.get(roomId);
      return {
        roomExists: store.rooms.has(roomId),
        state: structuredClone(d?.state ?? emptyLiveState()),
        version: d?.version ?? 0,
      };
    },
    async write(roomId, version, state) {
      await Promise.resolve();
      if (!store.rooms.has(roomId)) return "room_gone";
      if ((data.get(roomId)?.version ?? 0) !== version) return "conflict";
      data.set(roomId, { state: structuredClone(state), version: version + 1 });
      f.writes += 1;
      return "written";
    },
    async claimRoomRead(roomId, now) {
      await Promise.resolve();
      const last = claims.get(roomId);
      if (last !== undefined && last > now - ROOM_READ_INTERVAL_MS) return false;
      claims.set(roomId, now);
      return true;
    },
    async claimSlot(operation, slot) {
      await Promise.resolve();
      const key = `${operation}#${slot}`;
      if (store.slots.has(key)) return false;
      store.slots.add(key);
      return true;
    },
    async findIssued(_roomId, ids) {
      store.lookups.push([...ids]);
      return Object.fromEntries(ids.map((id) => [id, id === "p1" ? { role: "host", displayName: "Ana" } : null]));
    },
  };
  const ivs: IvsLiveReads = {
    async activeSession() {
      f.ivsCalls.push("GetStage");
      await new Promise((r) => setTimeout(r, 5));
      if (f.failIvs) throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
      return SESSION;
    },
    async participantsPage() {
      f.ivsCalls.push("ListParticipants");
      await new Promise((r) => setTimeout(r, 5));
      if (f.failIvs) throw new Error("IVS is down");
      return { participants: f.participants, nextToken: null };
    },
    async participantEventsPage() {
      f.ivsCalls.push("ListParticipantEvents");
      return { events: [], nextToken: null };
    },
  };
  Object.assign(f, {
    clock,
    ivsCalls: [],
    writes: 0,
    store,
    participants: [],
    failIvs: false,
    stored: () => ({ roomExists: true, ...(data.get(ROOM.roomId) ?? { state: emptyLiveState(), version: 0 }) }),
    deps: {
      store,
      ivs,
      clock: {
        now: () => clock.now,
        sleep: async (ms: number) => {
          clock.now += ms;
        },
      },
    },
  });
  return f;
}

const connected = (participantId: string): ParticipantSummary => ({
  participantId,
  userId: `user-${participantId}`,
  state: "CONNECTED",
  firstJoinTime: new Date(T0).toISOString(),
  published: false,
});

describe("createLiveReader", () => {
  it("50 concurrent callers in one container: one IVS read, and all of them get its result", async () => {
    const f = fakes();
    const reader = createLiveReader(f.deps);
    const results = await Promise.all(Array.from({ length: 50 }, () => reader.current(ROOM, T0 + 10_000)));
    expect(f.ivsCalls).toEqual(["GetStage"]);
    for (const r of results) expect(r.state.sessionId).toBe(SESSION);
  });

  it("several containers at once: one of them reads, per room and interval", async () => {
    const f = fakes();
    const containers = Array.from({ length: 5 }, () => createLiveReader(f.deps));
    await Promise.all(containers.flatMap((c) => Array.from({ length: 10 }, () => c.current(ROOM, T0 + 10_000))));
    expect(f.ivsCalls).toHaveLength(1);
  });

  it("no second read within the room's interval; the next one after it (GetStage found the session, so the participants)", async () => {
    const f = fakes();
    f.participants = [connected("p1"), connected("p2")];
    const reader = createLiveReader(f.deps);
    await reader.current(ROOM, T0 + 10_000);
    f.clock.now += ROOM_READ_INTERVAL_MS - 1;
    await reader.current(ROOM, f.clock.now + 10_000);
    expect(f.ivsCalls).toEqual(["GetStage"]);
    f.clock.now += 1;
    const r = await reader.current(ROOM, f.clock.now + 10_000);
    expect(f.ivsCalls).toEqual(["GetStage", "ListParticipants"]);
    expect(liveCounts(r.state)).toEqual({ connected: 2, publishing: 0 });
    // Participants new to the state are looked up in stagepass's records, once.
    expect(f.store.lookups).toEqual([["p1", "p2"]]);
    expect(r.state.participants.p1!.issued).toEqual({ role: "host", displayName: "Ana" });
    expect(r.state.participants.p2!.issued).toBeNull();
  });

  it("the account's budget spent: no IVS call, the stored state served as it is", async () => {
    const f = fakes();
    const reader = createLiveReader(f.deps);
    for (let slot = Math.floor(T0 / SLOT_MS); slot < Math.floor(T0 / SLOT_MS) + 10; slot++)
      f.store.slots.add(`GetStage#${slot}`);
    const r = await reader.current(ROOM, T0 + 10_000);
    expect(f.ivsCalls).toEqual([]);
    expect(r.state.readAt).toBeNull();
    expect(f.writes).toBe(0);
  });

  it("IVS failing: the stored state served (no 429 or 503), nothing written", async () => {
    const f = fakes();
    await applyEvent(f.deps, ROOM.roomId, {
      sessionId: SESSION,
      name: "published",
      participantId: "p1",
      userId: "u1",
      at: T0 - 10_000,
    });
    const writes = f.writes;
    f.failIvs = true;
    const r = await createLiveReader(f.deps).current(ROOM, T0 + 10_000);
    expect(f.ivsCalls).toEqual(["ListParticipants"]);
    expect(liveCounts(r.state)).toEqual({ connected: 1, publishing: 1 });
    expect(f.writes).toBe(writes);
  });

  it("a room that does not exist is never read from IVS", async () => {
    const f = fakes();
    f.store.rooms.clear();
    expect((await createLiveReader(f.deps).current(ROOM, T0 + 10_000)).roomExists).toBe(false);
    expect(f.ivsCalls).toEqual([]);
  });
});

describe("updateLive and applyEvent", () => {
  it("an event for a stage no room owns writes nothing", async () => {
    const f = fakes();
    f.store.rooms.clear();
    expect(
      await applyEvent(f.deps, ROOM.roomId, {
        sessionId: SESSION,
        name: "published",
        participantId: "p1",
        userId: "u1",
        at: T0,
      }),
    ).toBe(false);
    expect(f.writes).toBe(0);
  });

  it("a duplicate event costs no write", async () => {
    const f = fakes();
    const event = { sessionId: SESSION, name: "published" as const, participantId: "p1", userId: "u1", at: T0 };
    await applyEvent(f.deps, ROOM.roomId, event);
    await applyEvent(f.deps, ROOM.roomId, event);
    expect(f.writes).toBe(1);
  });

  it("concurrent writers: each re-reads and re-applies, so that no event is lost", async () => {
    const f = fakes();
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        applyEvent(f.deps, ROOM.roomId, {
          sessionId: SESSION,
          name: "published",
          participantId: `p${i}`,
          userId: `u${i}`,
          at: T0 + i,
        }),
      ),
    );
    expect(liveCounts(f.stored().state)).toEqual({ connected: 4, publishing: 4 });
    expect(f.stored().version).toBe(4);
  });

  it("gives up after repeated conflicts rather than loop", async () => {
    const f = fakes();
    const deps: LiveDeps = { ...f.deps, store: { ...f.deps.store, write: async () => "conflict" } };
    await expect(
      updateLive(deps, ROOM.roomId, (s) =>
        applyStageEvent(s, { sessionId: SESSION, name: "published", participantId: "p1", userId: "u", at: T0 }),
      ),
    ).rejects.toThrow(/kept changing/);
  });
});
