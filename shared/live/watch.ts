// The watch: IVS sends no event when someone joins or leaves a stage, or when a session begins or ends, so a room
// nobody looks at would learn of them only at its next read. The watch reads, on a schedule, the rooms whose stage
// has an active session (IVS ListStages says which: one call for up to 100 stages), and the rooms that had one at its
// previous sweep (to see the session end). Each read goes through the live reader, so it keeps to the room's read
// interval and the account's read budget (budget.ts) like any other; what it changes is written and sent as webhook
// events by the same code as a read on a caller's request (refresh.ts). Plain functions on ports, unit tested with
// fakes; functions/live-state runs it (docs/live-rooms.md, "The watch").
import { stageIdOf } from "../rooms/room.ts";
import { takeIvsRead, type Clock, type SlotClaims } from "./budget.ts";
import type { LiveReader } from "./refresh.ts";
import { isLive } from "./state.ts";

/** A stage as IVS ListStages lists it. */
export interface ListedStage {
  stageArn: string;
  activeSessionId: string | null;
}

export interface WatchDeps {
  /** One page of the account's stages (IVS ListStages, 100 a page). */
  listStages(nextToken: string | undefined): Promise<{ stages: ListedStage[]; nextToken?: string | undefined }>;
  /** Of these rooms, those whose stored live state says a session may be active. */
  liveAmong(roomIds: string[]): Promise<string[]>;
  reader: LiveReader;
  /** The account's IVS read budget (ListStages is limited like IVS's other reads). */
  budget: SlotClaims;
  clock: Clock;
}

/** Rooms read at once by one sweep (each read also waits for its slot of the account's budget). */
const CONCURRENT_READS = 4;
/** Time one room's read may take, its wait for a budget slot included. */
const READ_BUDGET_MS = 4_000;

export interface SweepResult {
  /** Stages ListStages listed. */
  stages: number;
  /** Rooms read (or offered a read: the room's interval or the budget may have said not yet). */
  rooms: number;
  /** Rooms live after the sweep. */
  live: number;
  /** False when the account's ListStages budget was spent: nothing was swept. */
  swept: boolean;
}

export interface LiveWatch {
  /**
   * Lists the stages and reads the rooms to read; none is begun after `until` (epoch ms): those left over are read
   * first at the next sweep, so that with more live rooms than a sweep reaches each still gets its turn.
   */
  sweep(until?: number): Promise<SweepResult>;
}

/**
 * One per container. Remembers the rooms that were live at its previous sweep, so that a session's end is seen
 * though ListStages no longer lists the stage as active; before its first sweep it asks the store instead.
 */
export function createLiveWatch(deps: WatchDeps): LiveWatch {
  let wasLive: Set<string> | undefined;
  /** The first room the previous sweep did not reach; the next sweep starts there. */
  let resumeAt: string | undefined;

  async function listAll(): Promise<ListedStage[] | undefined> {
    const all: ListedStage[] = [];
    let nextToken: string | undefined;
    do {
      if (!(await takeIvsRead(deps.budget, "ListStages", deps.clock, deps.clock.now() + READ_BUDGET_MS)))
        return undefined;
      const page = await deps.listStages(nextToken);
      all.push(...page.stages);
      nextToken = page.nextToken;
    } while (nextToken);
    return all;
  }

  return {
    async sweep(until = Infinity) {
      const stages = await listAll();
      if (!stages) return { stages: 0, rooms: 0, live: wasLive?.size ?? 0, swept: false };
      const arnOf = new Map(stages.map((s) => [stageIdOf(s.stageArn), s.stageArn]));
      const active = new Set(stages.filter((s) => s.activeSessionId !== null).map((s) => stageIdOf(s.stageArn)));
      const previous = wasLive ?? new Set(await deps.liveAmong([...arnOf.keys()].filter((id) => !active.has(id))));
      const sorted = [...new Set([...active, ...previous])].filter((id) => arnOf.has(id)).sort();
      const resume = resumeAt;
      const from =
        resume === undefined
          ? 0
          : Math.max(
              0,
              sorted.findIndex((id) => id >= resume),
            );
      const rooms = [...sorted.slice(from), ...sorted.slice(0, from)];
      resumeAt = undefined;

      // Rooms not read this time keep their standing: a live one not reached is still to be watched.
      const live = new Set<string>(sorted);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENT_READS, rooms.length) }, async () => {
          while (next < rooms.length) {
            if (deps.clock.now() >= until) {
              resumeAt ??= rooms[next];
              return;
            }
            const roomId = rooms[next++]!;
            const stored = await deps.reader.current(
              { roomId, stageArn: arnOf.get(roomId)! },
              deps.clock.now() + READ_BUDGET_MS,
            );
            if (stored.roomExists && isLive(stored.state)) live.add(roomId);
            else if (!active.has(roomId) || !stored.roomExists) live.delete(roomId);
          }
        }),
      );
      wasLive = live;
      return { stages: stages.length, rooms: rooms.length, live: live.size, swept: true };
    },
  };
}

/**
 * Sweeps every `everyMs` until `until` (epoch ms): the scheduled invocation's loop. A sweep that fails is reported to
 * `onError` and the loop goes on; no sweep starts after `until`. Returns the number of sweeps.
 */
export async function watchUntil(
  watch: LiveWatch,
  clock: Clock,
  everyMs: number,
  until: number,
  onError: (error: unknown) => void,
): Promise<number> {
  let sweeps = 0;
  for (;;) {
    const started = clock.now();
    try {
      await watch.sweep(until);
    } catch (error) {
      onError(error);
    }
    sweeps += 1;
    const nextAt = started + everyMs;
    if (nextAt > until) return sweeps;
    const wait = nextAt - clock.now();
    if (wait > 0) await clock.sleep(wait);
  }
}
