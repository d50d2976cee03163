/** The outbox sweep (shared/webhooks/sweep.ts): what the queue takes leaves the outbox; nothing else does. */
import { describe, expect, it } from "vitest";
import type { OutboxEntry } from "../../shared/store/webhook-outbox.ts";
import { SWEEP_LIMIT, sweepOutbox, type SweepPorts } from "../../shared/webhooks/sweep.ts";

const entry = (n: number): OutboxEntry => ({
  id: `evt_${String(n).padStart(32, "0")}`,
  type: "room.created",
  timestamp: `2026-01-01T00:00:0${n}.000Z`,
  body: `{"n":${n}}`,
});

function fakes(entries: OutboxEntry[], opts: { refuse?: string[]; failRemove?: string[] } = {}) {
  const outbox = [...entries];
  const queued: string[] = [];
  const logs: string[] = [];
  let asked = 0;
  const ports: SweepPorts = {
    list: async (limit) => {
      asked = limit;
      return outbox.slice(0, limit);
    },
    enqueue: async (events) => {
      queued.push(...events.filter((e) => !opts.refuse?.includes(e.id)).map((e) => e.body));
      return opts.refuse ?? [];
    },
    remove: async (e) => {
      if (opts.failRemove?.includes(e.id)) throw new Error("throttled");
      outbox.splice(outbox.indexOf(e), 1);
    },
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
  };
  return { ports, outbox, queued, logs, asked: () => asked };
}

describe("the outbox sweep", () => {
  it("queues the oldest entries with their exact bodies and removes them", async () => {
    const f = fakes([entry(1), entry(2)]);
    expect(await sweepOutbox(f.ports)).toEqual({ queued: 2, left: 0 });
    expect(f.queued).toEqual(['{"n":1}', '{"n":2}']);
    expect(f.outbox).toEqual([]);
    expect(f.asked()).toBe(SWEEP_LIMIT);
  });

  it("keeps what the queue refused, for the next sweep", async () => {
    const f = fakes([entry(1), entry(2)], { refuse: [entry(2).id] });
    expect(await sweepOutbox(f.ports)).toEqual({ queued: 1, left: 1 });
    expect(f.outbox).toEqual([entry(2)]);
  });

  it("an entry queued but not removed stays (queued again next time: twice, same id, rather than never)", async () => {
    const f = fakes([entry(1), entry(2)], { failRemove: [entry(1).id] });
    await sweepOutbox(f.ports);
    expect(f.outbox).toEqual([entry(1)]);
    expect(f.logs.some((l) => /queues them again/.test(l))).toBe(true);
  });

  it("an empty outbox: nothing queued", async () => {
    const f = fakes([]);
    expect(await sweepOutbox(f.ports)).toEqual({ queued: 0, left: 0 });
    expect(f.queued).toEqual([]);
  });
});
