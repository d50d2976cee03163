/**
 * Webhooks through the offline stack, to a real receiver on this machine that verifies every request with the
 * Standard Webhooks library from npm (standardwebhooks' Webhook.verify), never with the project's own signer:
 * - every room, member and moderation event arrives, signed and verifiable, with no personal data in it;
 * - a receiver that fails (a reset connection, then a 500) gets the same webhook-id on the attempt that succeeds;
 *   one that never succeeds gets 8 attempts, then the event is dead-lettered;
 * - a receiver that hangs holds up no request: token, kick and room requests complete while it holds a delivery,
 *   which times out and is retried;
 * - a tampered body and an old timestamp fail verification;
 * - a queue that refuses the event fails no request: the event waits in the outbox until the sweep queues it.
 * The stack runs with QUEUE_DELAY_SCALE=0.0001: the retry schedule's 27 hours take about 10 seconds.
 * - who is on stage: participant.joined / published / unpublished / left and room.started / ended, from IVS's events
 *   and reads of the room, each once, with the user id only for a participant stagepass issued.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { useStack, type Session, type TestStack } from "../support/stack.ts";

interface Received {
  headers: Record<string, string>;
  body: string;
  event: { type: string; id: string; timestamp: string; data: Record<string, any> };
  /** Whether the receiver answered it, or it is still held (a hanging receiver) or was abandoned by the sender. */
  state: "answered" | "held" | "closed";
}

/** What the receiver does with the nth request (1-based) carrying a webhook-id: a status, reset the connection, or hang. */
type Plan = (event: Received["event"], nth: number) => number | "reset" | "hang";

async function startReceiver() {
  const received: Received[] = [];
  const plans: Plan[] = [];
  const held: Array<() => void> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      const entry: Received = {
        headers: req.headers as Record<string, string>,
        body,
        event: JSON.parse(body),
        state: "answered",
      };
      received.push(entry);
      const nth = received.filter((r) => r.headers["webhook-id"] === entry.headers["webhook-id"]).length;
      const decided = plans.map((p) => p(entry.event, nth)).find((d) => d !== 204) ?? 204;
      if (decided === "reset") return req.socket.destroy();
      if (decided === "hang") {
        entry.state = "held";
        res.on("close", () => {
          if (entry.state === "held") entry.state = "closed";
        });
        held.push(() => {
          if (entry.state === "held") {
            entry.state = "answered";
            res.writeHead(204).end();
          }
        });
        return;
      }
      res.writeHead(decided).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/stagepass`,
    received,
    /** Applies to every request from now on; the first plan that answers something else than 204 decides. */
    plan(p: Plan) {
      plans.push(p);
    },
    releaseAll() {
      for (const release of held.splice(0)) release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const receiver = await startReceiver();
// The live rooms' watch on, sweeping every 2 s (LIVE_WATCH_SECONDS; the test projects turn it off elsewhere).
const stack = useStack({
  env: { ...process.env, WEBHOOK_URL: receiver.url, QUEUE_DELAY_SCALE: "0.0001", LIVE_WATCH_SECONDS: "2" },
});
afterAll(() => receiver.close());
afterEach(() => vi.useRealTimers());

/** Waits (polling) until `check` holds; fails with `what` if it does not within `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const byActor = (actor: Session) => receiver.received.filter((r) => r.event.data.actorId === actor.sub);
const secret = async (s: TestStack): Promise<string> => (await s.api("GET", "/dev/info")).body.webhookSecret;
const verify = (key: string, r: Pick<Received, "body" | "headers">) => new Webhook(key).verify(r.body, r.headers);
const deliveries = async (s: TestStack) => (await s.api("GET", "/dev/webhooks")).body.deliveries as any[];

describe("webhooks of who is on stage", () => {
  it("a session starts, a participant joins, publishes, stops and leaves, the session ends: each once, verifiable", async () => {
    const s = stack();
    const owner = await s.login("wh-live-owner", { preferredUsername: "Live Owner" });
    const room = await s.createRoom(owner, { name: "wh-live" });
    const roomId: string = room.roomId;
    const ofRoom = () =>
      receiver.received.filter((r) => r.event.data.roomId === roomId && !("actorId" in r.event.data));
    const t = await s.api("POST", `/rooms/${roomId}/token`, { as: owner });
    expect(t.status, t.text).toBe(200);
    expect((await s.join(t.body.token)).status).toBe(200);
    const act = (route: string) =>
      fetch(`${s.stack.ivs.url}/_emulator/${route}`, {
        method: "POST",
        body: JSON.stringify({ participantId: t.body.participantId }),
      });
    expect((await act("publish")).status).toBe(200);
    await until("room.started and participant.published", () =>
      ofRoom().some((r) => r.event.type === "participant.published"),
    );
    expect((await act("unpublish")).status).toBe(200);
    expect((await act("leave")).status).toBe(200);
    // The leave shows in IVS's reads (IVS sends no event for it): someone looks at the room after the read interval.
    await until(
      "participant.left and room.ended",
      async () => {
        await s.api("GET", `/rooms/${roomId}/participants`, { as: owner });
        return ofRoom().some((r) => r.event.type === "room.ended");
      },
      40_000,
    );
    const got = ofRoom();
    expect(got.map((r) => r.event.type).sort()).toEqual([
      "participant.joined",
      "participant.left",
      "participant.published",
      "participant.unpublished",
      "room.ended",
      "room.started",
    ]);
    const key = await secret(s);
    for (const r of got) {
      expect(verify(key, r)).toEqual(r.event);
      expect(r.body).not.toContain("Live Owner");
    }
    const joined = got.find((r) => r.event.type === "participant.joined")!.event.data;
    expect(joined).toEqual({
      roomId,
      sessionId: expect.stringMatching(/^st-/),
      participantId: t.body.participantId,
      userId: owner.sub,
    });
  }, 90_000);
});

describe("webhooks of who is on stage, with nobody reading the room", () => {
  it("the watch sees the join, the leave and the session's start and end: each within 30 s, once", async () => {
    const s = stack();
    // Offline, the watch's schedule (every minute) is started now rather than at the next minute.
    const watch = s.stack.schedules.list().find((w) => w.name === "LiveStateFunction.WatchLiveRooms");
    expect(watch).toMatchObject({ schedule: "rate(1 minute)", enabled: true });
    void s.stack.schedules.run(watch!.name).catch(() => undefined);
    const owner = await s.login("wh-watch-owner");
    const room = await s.createRoom(owner, { name: "wh-watch" });
    const roomId: string = room.roomId;
    const types = () =>
      receiver.received
        .filter((r) => r.event.data.roomId === roomId && !("actorId" in r.event.data))
        .map((r) => r.event.type);
    const t = await s.api("POST", `/rooms/${roomId}/token`, { as: owner });
    expect(t.status, t.text).toBe(200);
    // A client joins and does not publish: IVS sends no event at all; only the watch's reads can see it.
    expect((await s.join(t.body.token)).status).toBe(200);
    await until("room.started and participant.joined", () => types().includes("participant.joined"), 30_000);
    expect(types().sort()).toEqual(["participant.joined", "room.started"]);
    const leave = await fetch(`${s.stack.ivs.url}/_emulator/leave`, {
      method: "POST",
      body: JSON.stringify({ participantId: t.body.participantId }),
    });
    expect(leave.status).toBe(200);
    await until("participant.left and room.ended", () => types().includes("room.ended"), 30_000);
    expect(types().sort()).toEqual(["participant.joined", "participant.left", "room.ended", "room.started"]);
  }, 90_000);
});

describe("webhooks", () => {
  it("the secret is in /dev/info in the whsec_ form; GET /dev/webhooks lists the deliveries", async () => {
    const s = stack();
    const info = (await s.api("GET", "/dev/info")).body;
    expect(info.webhookUrl).toBe(receiver.url);
    expect(info.webhookSecret).toMatch(/^whsec_[A-Za-z0-9]{48}$/);
    const r = await s.api("GET", "/dev/webhooks");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ url: receiver.url, deliveries: expect.any(Array) });
  });

  it("every room, member and moderation event arrives once, signed, verifiable, with ids and no personal data", async () => {
    const s = stack();
    const owner = await s.login("wh-owner", { preferredUsername: "Olivia Owner" });
    const guest = await s.login("wh-guest", { preferredUsername: "Gustav Guest" });
    const room = await s.createRoom(owner, { name: "private-stage-name", title: "A Title Someone Wrote" });
    const roomId: string = room.roomId;
    const ok = (status: number) => (r: { status: number; text: string }) => expect(r.status, r.text).toBe(status);
    ok(200)(await s.api("PATCH", `/rooms/${roomId}`, { as: owner, body: { title: "Another Title" } }));
    ok(200)(await s.api("PUT", `/rooms/${roomId}/tags`, { as: owner, body: { tags: { team: "blue" } } }));
    ok(200)(await s.api("PUT", `/rooms/${roomId}/members/${guest.sub}`, { as: owner, body: { role: "viewer" } }));
    ok(204)(await s.api("DELETE", `/rooms/${roomId}/members/${guest.sub}`, { as: owner }));
    const t = await s.api("POST", `/rooms/${roomId}/token`, { as: guest });
    ok(200)(t);
    ok(200)(
      await s.api("POST", `/rooms/${roomId}/kick`, {
        as: owner,
        body: { userId: guest.sub, banMinutes: 5, reason: "Rude words by Gustav" },
      }),
    );
    ok(204)(await s.api("DELETE", `/rooms/${roomId}/bans/${guest.sub}`, { as: owner }));
    ok(204)(await s.api("DELETE", `/rooms/${roomId}`, { as: owner }));

    const expected = [
      "room.created",
      "room.updated",
      "room.updated",
      "member.set",
      "member.removed",
      "user.banned",
      "participant.kicked",
      "user.unbanned",
      "room.deleted",
    ];
    await until("the owner's nine events", () => byActor(owner).length >= expected.length);
    const got = byActor(owner);
    expect(got.map((r) => r.event.type).sort()).toEqual([...expected].sort());
    const key = await secret(s);
    for (const r of got) {
      // The library checks the signature over id, timestamp and body, and the timestamp's age.
      expect(verify(key, r)).toEqual(r.event);
      expect(r.headers["webhook-id"]).toBe(r.event.id);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.event.data.roomId).toBe(roomId);
      expect(Object.keys(r.event).sort()).toEqual(["data", "id", "timestamp", "type"]);
      for (const personal of [
        "Olivia",
        "Gustav",
        "private-stage-name",
        "Someone Wrote",
        "Rude",
        "wh-owner",
        "wh-guest",
      ])
        expect(r.body).not.toContain(personal);
    }
    expect(new Set(got.map((r) => r.event.id)).size).toBe(got.length);
    const of = (type: string) => got.filter((r) => r.event.type === type).map((r) => r.event.data);
    expect(of("room.created")).toEqual([{ roomId, ownerId: owner.sub, actorId: owner.sub }]);
    expect(of("room.updated")).toEqual(
      expect.arrayContaining([
        { roomId, fields: ["title"], version: 2, actorId: owner.sub },
        { roomId, fields: ["tags"], version: 3, actorId: owner.sub },
      ]),
    );
    expect(of("member.set")).toEqual([
      { roomId, userId: guest.sub, role: "viewer", previousRole: null, actorId: owner.sub },
    ]);
    expect(of("member.removed")).toEqual([{ roomId, userId: guest.sub, previousRole: "viewer", actorId: owner.sub }]);
    expect(of("user.banned")).toEqual([{ roomId, userId: guest.sub, until: expect.any(String), actorId: owner.sub }]);
    expect(of("participant.kicked")).toEqual([
      { roomId, userId: guest.sub, participantIds: [t.body.participantId], banMinutes: 5, actorId: owner.sub },
    ]);
    expect(of("user.unbanned")).toEqual([{ roomId, userId: guest.sub, actorId: owner.sub }]);
    expect(of("room.deleted")).toEqual([{ roomId, actorId: owner.sub }]);

    // The console's list: each one delivered at the first attempt.
    const listed = async () => (await deliveries(s)).filter((d) => d.data?.roomId === roomId);
    await until("the list to show them delivered", async () => (await listed()).every((d) => d.status === "delivered"));
    expect(await listed()).toHaveLength(expected.length);
    for (const d of await listed())
      expect(d).toMatchObject({
        status: "delivered",
        attempts: 1,
        id: expect.stringMatching(/^evt_/),
        type: expect.any(String),
      });
  });

  it("a reset connection, then a 500, then a 2xx: three attempts with the same webhook-id, each signed afresh", async () => {
    const s = stack();
    const owner = await s.login("wh-flaky");
    receiver.plan((event, nth) =>
      event.data.actorId !== owner.sub ? 204 : nth === 1 ? "reset" : nth === 2 ? 500 : 204,
    );
    const room = await s.createRoom(owner);
    await until("three attempts", () => byActor(owner).length >= 3);
    const attempts = byActor(owner);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((r) => r.headers["webhook-id"]))).toEqual(new Set([attempts[0]!.event.id]));
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    const key = await secret(s);
    for (const r of attempts)
      expect(verify(key, r)).toMatchObject({ type: "room.created", data: { roomId: room.roomId } });
    const listed = async () => (await deliveries(s)).find((d) => d.id === attempts[0]!.event.id);
    await until("the list to show it delivered", async () => (await listed())?.status === "delivered");
    expect(await listed()).toMatchObject({ status: "delivered", attempts: 3, type: "room.created" });
  });

  it("a receiver that never succeeds: 8 attempts (27 hours in SQS, seconds here), then the dead-letter queue", async () => {
    const s = stack();
    const owner = await s.login("wh-down");
    receiver.plan((event) => (event.data.actorId === owner.sub ? 503 : 204));
    await s.createRoom(owner);
    const queue = s.stack.queues.queues.get("WebhookQueue")!;
    let id = "";
    await until(
      "8 attempts and the dead-letter queue",
      () => {
        id = byActor(owner)[0]?.event.id ?? "";
        return queue.deadLetters().some((m) => m.body.includes(id || "-"));
      },
      60_000,
    );
    const attempts = byActor(owner);
    expect(attempts).toHaveLength(8);
    expect(new Set(attempts.map((r) => r.headers["webhook-id"]))).toEqual(new Set([id]));
    const listed = (await deliveries(s)).find((d) => d.id === id);
    expect(listed).toMatchObject({ status: "dead-lettered", attempts: 8 });
  }, 90_000);

  it("a receiver that hangs holds up no request; its delivery times out after 5 s and is retried with the same id", async () => {
    const s = stack();
    const owner = await s.login("wh-hang");
    const guest = await s.login("wh-hang-guest");
    receiver.plan((event, nth) =>
      event.data.actorId === owner.sub && event.type === "room.created" && nth === 1 ? "hang" : 204,
    );
    const room = await s.createRoom(owner);
    await until("the receiver to hold the delivery", () => byActor(owner).some((r) => r.state === "held"));
    const held = byActor(owner).find((r) => r.state === "held")!;

    // While the receiver holds room.created: a token, a kick, a room update, all answered.
    const t = await s.api("POST", `/rooms/${room.roomId}/token`, { as: guest });
    expect(t.status, t.text).toBe(200);
    const k = await s.api("POST", `/rooms/${room.roomId}/kick`, { as: owner, body: { userId: guest.sub } });
    expect(k.status, k.text).toBe(200);
    const u = await s.api("PATCH", `/rooms/${room.roomId}`, { as: owner, body: { title: "still fast" } });
    expect(u.status, u.text).toBe(200);
    // ...before the delivery they could have waited on was given up: the receiver still holds it.
    expect(held.state).toBe("held");

    await until("the sender to give up the held delivery", () => held.state === "closed", 20_000);
    await until(
      "the retry",
      () => byActor(owner).filter((r) => r.event.id === held.event.id && r.state === "answered").length === 1,
      20_000,
    );
    const key = await secret(s);
    for (const r of byActor(owner).filter((x) => x.event.id === held.event.id))
      expect(verify(key, r)).toEqual(held.event);
    receiver.releaseAll();
  }, 60_000);

  it("verification fails for a tampered body, another key, and a genuine delivery replayed six minutes later", async () => {
    const s = stack();
    const owner = await s.login("wh-verify");
    await s.createRoom(owner);
    await until("room.created", () => byActor(owner).length === 1);
    const [r] = byActor(owner);
    const key = await secret(s);
    expect(verify(key, r!)).toEqual(r!.event);
    expect(() => verify(key, { ...r!, body: r!.body.replace(owner.sub, "0".repeat(owner.sub.length)) })).toThrow(
      /No matching signature/,
    );
    expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString("base64")}`, r!)).toThrow(/No matching signature/);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 6 * 60_000);
    expect(() => verify(key, r!)).toThrow(/timestamp too old/);
  });

  it("a queue refusing the event fails no request: it waits in the outbox, and the sweep delivers it", async () => {
    const s = stack();
    const owner = await s.login("wh-outbox");
    // SQS answering 500 to both tries of the enqueue (the SDK's one retry).
    const queue = s.stack.queues.queues.get("WebhookQueue")!;
    queue.refuseSends(2);
    const room = await s.createRoom(owner);
    queue.refuseSends(0);
    const outbox = async () =>
      (await s.scanTable()).map((i) => unmarshall(i as any)).filter((i) => i.pk === "WEBHOOK#OUTBOX");
    const kept = await outbox();
    expect(kept.map((i) => JSON.parse(String(i.body)))).toEqual([
      expect.objectContaining({
        type: "room.created",
        data: { roomId: room.roomId, ownerId: owner.sub, actorId: owner.sub },
      }),
    ]);
    expect(byActor(owner)).toEqual([]);

    await s.stack.schedules.run("WebhookFunction.SweepOutbox");
    await until("the swept event", () => byActor(owner).length === 1);
    const [r] = byActor(owner);
    expect(r!.body).toBe(kept[0]!.body);
    expect(verify(await secret(s), r!)).toMatchObject({ id: kept[0]!.id });
    expect(await outbox()).toEqual([]);
  });
});
