// The authorization matrix: every route of template.yaml × {anonymous, stranger, viewer, speaker, host, owner,
// admin, banned}, the status docs/api.md says, generated from one table. The room is members-only, so that a stranger
// has no role; viewer, speaker and host are members with those roles; banned was a viewer and is banned.
import { describe, expect, it } from "vitest";
import { loadTemplate, routesOf } from "../../local/template.ts";
import { useStack, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

const PERSONAS = ["anonymous", "stranger", "viewer", "speaker", "host", "owner", "admin", "banned"] as const;
type Persona = (typeof PERSONAS)[number];

interface World {
  s: TestStack;
  room: { roomId: string };
  users: Record<Exclude<Persona, "anonymous">, Session>;
}

interface Case {
  /** Builds the request; may set up fresh state for routes that destroy what they touch. */
  request(w: World, who: Persona): Promise<{ path: string; body?: unknown }>;
  /** The status for each persona; `moderators` = host, owner, admin. */
  expect: Partial<Record<Persona, number>> & { otherwise: number };
}

const moderatorsOnly = (ok: number): Case["expect"] => ({
  anonymous: 401,
  host: ok,
  owner: ok,
  admin: ok,
  otherwise: 403,
});
const entrants = (ok: number): Case["expect"] => ({
  anonymous: 401,
  viewer: ok,
  speaker: ok,
  host: ok,
  owner: ok,
  admin: ok,
  otherwise: 403,
});

/** A room of its own (same members), for routes that delete or change what they act on. */
async function freshRoom(w: World): Promise<string> {
  const room = await w.s.createRoom(w.users.owner, { policy: { access: "members" } });
  for (const role of ["viewer", "speaker", "host"] as const) {
    const r = await w.s.api("PUT", `/rooms/${room.roomId}/members/${w.users[role].sub}`, {
      as: w.users.owner,
      body: { role },
    });
    expect(r.status).toBe(200);
  }
  await w.s.api("PUT", `/rooms/${room.roomId}/members/${w.users.banned.sub}`, {
    as: w.users.owner,
    body: { role: "viewer" },
  });
  const ban = await w.s.api("POST", `/rooms/${room.roomId}/kick`, {
    as: w.users.owner,
    body: { userId: w.users.banned.sub, banMinutes: 60 },
  });
  expect(ban.status).toBe(200);
  return room.roomId;
}

const TABLE: Record<string, Case> = {
  "GET /health": { request: async () => ({ path: "/health" }), expect: { otherwise: 200 } },
  "POST /rooms": {
    request: async () => ({ path: "/rooms", body: { name: "matrix" } }),
    expect: { anonymous: 401, otherwise: 201 },
  },
  "GET /rooms": { request: async () => ({ path: "/rooms" }), expect: { anonymous: 401, otherwise: 200 } },
  "GET /rooms/{roomId}": { request: async (w) => ({ path: `/rooms/${w.room.roomId}` }), expect: entrants(200) },
  "PATCH /rooms/{roomId}": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}`, body: { title: "renamed" } }),
    expect: moderatorsOnly(200),
  },
  "DELETE /rooms/{roomId}": {
    request: async (w, who) => ({
      path: `/rooms/${["owner", "admin"].includes(who) ? await freshRoom(w) : w.room.roomId}`,
    }),
    expect: { anonymous: 401, owner: 204, admin: 204, otherwise: 403 },
  },
  "GET /rooms/{roomId}/members": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/members` }),
    expect: moderatorsOnly(200),
  },
  "PUT /rooms/{roomId}/members/{userId}": {
    request: async (w) => ({
      path: `/rooms/${w.room.roomId}/members/${w.users.stranger.sub}x`,
      body: { role: "speaker" },
    }),
    expect: moderatorsOnly(200),
  },
  "DELETE /rooms/{roomId}/members/{userId}": {
    request: async (w, who) => ({
      path: `/rooms/${["host", "owner", "admin"].includes(who) ? await freshRoom(w) : w.room.roomId}/members/${w.users.viewer.sub}`,
    }),
    expect: moderatorsOnly(204),
  },
  "GET /rooms/{roomId}/tags": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/tags` }),
    expect: moderatorsOnly(200),
  },
  "PUT /rooms/{roomId}/tags": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/tags`, body: { tags: { team: "a" } } }),
    expect: moderatorsOnly(200),
  },
  "DELETE /rooms/{roomId}/tags": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/tags?keys=team` }),
    expect: moderatorsOnly(204),
  },
  "GET /admin/stages": {
    request: async () => ({ path: "/admin/stages" }),
    expect: { anonymous: 401, admin: 200, otherwise: 403 },
  },
  "POST /rooms/{roomId}/token": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/token`, body: {} }),
    expect: entrants(200),
  },
  "GET /rooms/{roomId}/token": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/token` }),
    expect: entrants(200),
  },
  // This suite runs with TOKEN_MODE=api, where no token can be exchanged (the self-signed matrix of the route is in
  // tests/e2e/token-exchange.test.ts).
  "POST /rooms/{roomId}/participants/{participantId}/token": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/participants/NoSuchParticipant1/token`, body: {} }),
    expect: { anonymous: 401, otherwise: 409 },
  },
  "POST /rooms/{roomId}/kick": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/kick`, body: { userId: w.users.viewer.sub } }),
    expect: moderatorsOnly(200),
  },
  "GET /rooms/{roomId}/bans": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/bans` }),
    expect: moderatorsOnly(200),
  },
  "DELETE /rooms/{roomId}/bans/{userId}": {
    request: async (w, who) => ({
      path: `/rooms/${["host", "owner", "admin"].includes(who) ? await freshRoom(w) : w.room.roomId}/bans/${w.users.banned.sub}`,
    }),
    expect: moderatorsOnly(204),
  },
  "GET /rooms/{roomId}/audit": {
    request: async (w) => ({ path: `/rooms/${w.room.roomId}/audit` }),
    expect: moderatorsOnly(200),
  },
};

describe("authorization matrix", () => {
  it("covers every route of the template, and nothing else", () => {
    expect(Object.keys(TABLE).sort()).toEqual(
      routesOf(loadTemplate())
        .map((r) => r.routeKey)
        .sort(),
    );
  });

  let world: World | undefined;
  const getWorld = async (): Promise<World> => {
    if (world) return world;
    const s = stack();
    const users = {} as World["users"];
    for (const p of PERSONAS) {
      if (p === "anonymous") continue;
      users[p] = await s.login(`matrix-${p}`, p === "admin" ? { groups: ["admin"] } : {});
    }
    world = { s, users, room: { roomId: "" } };
    world.room.roomId = await freshRoom(world);
    return world;
  };

  const cases = Object.keys(TABLE).flatMap((routeKey) => PERSONAS.map((who) => [routeKey, who] as const));
  it.each(cases)("%s as %s", async (routeKey, who) => {
    const w = await getWorld();
    const c = TABLE[routeKey]!;
    const { path, body } = await c.request(w, who);
    const method = routeKey.split(" ")[0]!;
    const r = await w.s.api(method, path, {
      ...(who === "anonymous" ? {} : { as: w.users[who] }),
      ...(body !== undefined ? { body } : {}),
    });
    const expected = c.expect[who] ?? c.expect.otherwise;
    expect(r.status, `${routeKey} as ${who}: ${r.text.slice(0, 300)}`).toBe(expected);
    if (expected === 403 && who === "banned" && routeKey.includes("token")) expect(r.body.code).toBe("banned");
  });
});
