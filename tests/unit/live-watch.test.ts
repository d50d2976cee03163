// The live rooms' watch (shared/live/watch.ts) on fakes: which rooms a sweep reads, what it remembers between sweeps,
// IVS's ListStages paged and paid from the read budget, and the scheduled invocation's loop.
import { describe, expect, it } from "vitest";
import type { Clock } from "../../shared/live/budget.ts";
import type { LiveReader } from "../../shared/live/refresh.ts";
import { emptyLiveState } from "../../shared/live/state.ts";
import { createLiveWatch, watchUntil, type ListedStage, type WatchDeps } from "../../shared/live/watch.ts";

const arn = (id: string) => `arn:aws:ivs:us-east-1:123456789012:stage/${id}`;

/** IVS's stages, the rooms stagepass owns and their stored state, and what the watch asked of each. */
function setup(opts: { pageSize?: number; budget?: boolean } = {}) {
  const stages = new Map<string, string | null>(); // stage id → active session id
  const rooms = new Map<string, string | null>(); // room id → session id its stored state says is live
  const reads: string[] = [];
  const asked: string[][] = [];
  let listCalls = 0;
  let slotClaims = 0;
  const reader: LiveReader = {
    async current(room) {
      reads.push(room.roomId);
      expect(room.stageArn).toBe(arn(room.roomId));
      if (!rooms.has(room.roomId)) return { roomExists: false, state: emptyLiveState(), version: 0 };
      // A read brings the stored state to what IVS says now.
      rooms.set(room.roomId, stages.get(room.roomId) ?? null);
      const sessionId = rooms.get(room.roomId) ?? null;
      return { roomExists: true, state: { ...emptyLiveState(), sessionId }, version: 1 };
    },
  };
  const clock: Clock = { now: () => 1_000_000, sleep: async () => undefined };
  const deps: WatchDeps = {
    async listStages(nextToken) {
      listCalls += 1;
      const all: ListedStage[] = [...stages].map(([id, s]) => ({ stageArn: arn(id), activeSessionId: s }));
      const size = opts.pageSize ?? 100;
      const from = nextToken ? Number(nextToken) : 0;
      const next = from + size < all.length ? String(from + size) : undefined;
      return { stages: all.slice(from, from + size), nextToken: next };
    },
    async liveAmong(roomIds) {
      asked.push(roomIds);
      return roomIds.filter((id) => rooms.get(id));
    },
    reader,
    budget: {
      async claimSlot() {
        slotClaims += 1;
        return opts.budget ?? true;
      },
    },
    clock,
  };
  return {
    stages,
    rooms,
    reads,
    asked,
    watch: createLiveWatch(deps),
    counts: () => ({ listCalls, slotClaims }),
    takeReads: () => reads.splice(0).sort(),
  };
}

describe("a sweep of the live rooms' watch", () => {
  it("reads the rooms whose stage has an active session, and no idle one", async () => {
    const t = setup();
    t.stages.set("live1", "st-a").set("live2", "st-b").set("idle", null);
    t.rooms.set("live1", null).set("live2", null).set("idle", null);
    expect(await t.watch.sweep()).toEqual({ stages: 3, rooms: 2, live: 2, swept: true });
    expect(t.takeReads()).toEqual(["live1", "live2"]);
  });

  it("reads a room once more after its session ends, to see the end, then leaves it alone", async () => {
    const t = setup();
    t.stages.set("r", "st-a");
    t.rooms.set("r", null);
    await t.watch.sweep();
    expect(t.takeReads()).toEqual(["r"]);
    t.stages.set("r", null); // everyone left: ListStages lists no active session
    expect(await t.watch.sweep()).toMatchObject({ rooms: 1, live: 0 });
    expect(t.takeReads()).toEqual(["r"]);
    expect(t.rooms.get("r")).toBeNull(); // the read saw the end
    expect(await t.watch.sweep()).toMatchObject({ rooms: 0, live: 0 });
    expect(t.takeReads()).toEqual([]);
  });

  it("on its first sweep asks the store which idle stages' rooms it still holds live, then remembers itself", async () => {
    const t = setup();
    t.stages.set("ended", null).set("quiet", null).set("on", "st-c");
    t.rooms.set("ended", "st-old").set("quiet", null).set("on", null);
    await t.watch.sweep();
    expect(t.asked).toEqual([["ended", "quiet"]]);
    expect(t.takeReads()).toEqual(["ended", "on"]);
    await t.watch.sweep();
    expect(t.asked).toHaveLength(1);
    expect(t.takeReads()).toEqual(["on"]);
  });

  it("offers a stage no room owns to the reader, which reads nothing of IVS for it, and does not carry it", async () => {
    const t = setup();
    t.stages.set("foreign", "st-x");
    expect(await t.watch.sweep()).toMatchObject({ rooms: 1, live: 0 });
    t.stages.set("foreign", null);
    expect(await t.watch.sweep()).toMatchObject({ rooms: 0, live: 0 });
  });

  it("lists every page of stages, each page paid from the account's read budget", async () => {
    const t = setup({ pageSize: 2 });
    for (let i = 0; i < 5; i++) {
      t.stages.set(`s${i}`, i % 2 === 0 ? `st-${i}` : null);
      t.rooms.set(`s${i}`, null);
    }
    expect(await t.watch.sweep()).toMatchObject({ stages: 5, rooms: 3, live: 3 });
    expect(t.counts()).toEqual({ listCalls: 3, slotClaims: 3 });
    expect(t.takeReads()).toEqual(["s0", "s2", "s4"]);
  });

  it("sweeps nothing when the budget is spent: no list, no read", async () => {
    const t = setup({ budget: false });
    t.stages.set("r", "st-a");
    t.rooms.set("r", null);
    expect(await t.watch.sweep()).toEqual({ stages: 0, rooms: 0, live: 0, swept: false });
    expect(t.counts().listCalls).toBe(0);
    expect(t.reads).toEqual([]);
  });
});

describe("the scheduled invocation's loop", () => {
  function fakeClock() {
    let now = 0;
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    };
    return { clock, advance: (ms: number) => (now += ms) };
  }

  it("sweeps every interval and starts none after the end of its window", async () => {
    const { clock, advance } = fakeClock();
    const starts: number[] = [];
    const watch = {
      sweep: async () => {
        starts.push(clock.now());
        advance(700); // a sweep takes time; the next still starts on the interval
        return { stages: 0, rooms: 0, live: 0, swept: true };
      },
    };
    expect(await watchUntil(watch, clock, 10_000, 55_000, () => undefined)).toBe(6);
    expect(starts).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
  });

  it("goes on after a sweep that fails, and reports the failure", async () => {
    const { clock } = fakeClock();
    const errors: unknown[] = [];
    let n = 0;
    const watch = {
      sweep: async () => {
        if (++n === 2) throw new Error("DynamoDB did not answer");
        return { stages: 0, rooms: 0, live: 0, swept: true };
      },
    };
    expect(await watchUntil(watch, clock, 5_000, 20_000, (e) => errors.push(e))).toBe(5);
    expect(errors.map((e) => (e as Error).message)).toEqual(["DynamoDB did not answer"]);
  });
});

describe("a sweep that runs out of time", () => {
  it("begins no read after its end, keeps the rooms it did not reach, and starts the next sweep with them", async () => {
    const t = setup();
    for (const id of ["a", "b", "c", "d", "e", "f"]) {
      t.stages.set(id, `st-${id}`);
      t.rooms.set(id, null);
    }
    let now = 0;
    const reads: string[] = [];
    const watch = createLiveWatch({
      listStages: async () => ({ stages: [...t.stages].map(([id, s]) => ({ stageArn: arn(id), activeSessionId: s })) }),
      liveAmong: async () => [],
      reader: {
        async current(room) {
          reads.push(room.roomId);
          await Promise.resolve();
          now += 250; // the four reads under way together take a second
          return { roomExists: true, state: { ...emptyLiveState(), sessionId: "st" }, version: 1 };
        },
      },
      budget: { claimSlot: async () => true },
      clock: { now: () => now, sleep: async () => undefined },
    });
    // Four reads at once: by 1 s the four are done, and no fifth is begun.
    await watch.sweep(1_000);
    expect(reads.sort()).toEqual(["a", "b", "c", "d"]);
    reads.length = 0;
    await watch.sweep(Infinity);
    expect(reads.slice(0, 2)).toEqual(["e", "f"]);
    expect(reads.sort()).toEqual(["a", "b", "c", "d", "e", "f"]);
  });
});
