// A storm of 100 concurrent kicks against IVS's real limit of 5 DisconnectParticipant calls per second (the
// emulator enforcing it): every kick answers 200, what the requests could not do in their budget goes through the
// disconnect queue, and in the end every participant is disconnected, nothing dead-lettered, no 5xx.
import { describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

async function auditEntries(s: TestStack, as: Session, roomId: string): Promise<any[]> {
  const entries: any[] = [];
  let next: string | undefined;
  do {
    const r = await s.api("GET", `/rooms/${roomId}/audit?limit=100${next ? `&nextToken=${next}` : ""}`, { as });
    expect(r.status, r.text).toBe(200);
    entries.push(...r.body.entries);
    next = r.body.nextToken;
  } while (next);
  return entries;
}

describe("kick storm", () => {
  it("100 concurrent kicks all complete, some through the queue, with no 5xx", { timeout: 90_000 }, async () => {
    const s = stack();
    const owner = await s.login("storm-owner");
    const room = await s.createRoom(owner, { name: "storm" });
    // 20 viewers with 5 participants each (under the 10 tokens per user per minute), all joined.
    const users = await Promise.all(Array.from({ length: 20 }, (_, i) => s.login(`storm-viewer-${i}`)));
    const asks = users.flatMap((u) => Array.from({ length: 5 }, () => u));
    const tokens = await inBatches(asks, 10, async (u) => {
      const r = await s.api("POST", `/rooms/${room.roomId}/token`, { as: u });
      expect(r.status, r.text).toBe(200);
      return r.body as { participantId: string; token: string };
    });
    await inBatches(tokens, 10, async (t) => expect((await s.join(t.token)).status).toBe(200));
    const ids = tokens.map((t) => t.participantId);
    expect(new Set(ids).size).toBe(100);
    expect((await s.participants(room.roomId)).filter((p) => p.state === "CONNECTED")).toHaveLength(100);

    const queue = s.stack.queues.queues.get("DisconnectQueue")!;
    const deadBefore = queue.deadLetters().length;
    s.stack.ivs.setEnforceRates(true);
    let responses: ApiResponse[];
    try {
      responses = await Promise.all(
        ids.map((participantId) =>
          s.api("POST", `/rooms/${room.roomId}/kick`, { as: owner, body: { participantId, reason: "storm" } }),
        ),
      );
      for (const [i, r] of responses.entries()) {
        expect(r.status, r.text).toBe(200);
        expect(r.body.ban).toBeNull();
        expect([...r.body.disconnected, ...r.body.pending]).toEqual([ids[i]]);
      }
      const pending = responses.flatMap((r) => r.body.pending as string[]);
      const disconnected = responses.flatMap((r) => r.body.disconnected as string[]);
      // IVS's 5 per second cannot serve 100 disconnects inside the requests' budget.
      expect(pending.length).toBeGreaterThan(0);
      expect(disconnected.length).toBeGreaterThan(0);

      await queue.drained(60_000);
    } finally {
      s.stack.ivs.setEnforceRates(false);
    }
    expect(queue.deadLetters().length).toBe(deadBefore);
    const after = await s.participants(room.roomId);
    expect(after.filter((p) => ids.includes(p.participantId)).map((p) => p.state)).toEqual(
      Array(100).fill("DISCONNECTED"),
    );
    // Revoked for good: no kicked token joins again.
    expect((await s.join(tokens[0]!.token)).status).toBe(403);
    expect((await s.join(tokens[99]!.token)).status).toBe(403);

    // Every kick is in the audit trail, which pages through all of them.
    const kicks = (await auditEntries(s, owner, room.roomId)).filter((e) => e.action === "participant.kicked");
    expect(kicks.map((e) => e.target).sort()).toEqual([...ids].sort());
  });
});
