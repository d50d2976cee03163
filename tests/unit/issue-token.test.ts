// The token use case (functions/token/issue-token.ts) with in-memory fakes of its ports: the caller's limit is
// charged before the issuer is asked, a request refused by the limit or by the issuer's budget never reaches it,
// and a request that gets no token after its charge gives the charge back.
import { describe, expect, it } from "vitest";
import type { Admission, IssuedToken, TokenIssuer } from "../../functions/token/issuers.ts";
import { issueToken } from "../../functions/token/issue-token.ts";
import type { Caller } from "../../shared/auth/caller.ts";
import { BannedError, RateLimitedError, UpstreamUnavailableError } from "../../shared/errors.ts";
import type { AuthenticatedRequest } from "../../shared/http/types.ts";
import { defaultPolicy } from "../../shared/rooms/policy.ts";
import type { DocItem, DocTransactItem, DocUpdate, Table } from "../../shared/store/db.ts";

const ROOM = "room-1";
const NOW = Date.parse("2026-12-05T10:00:30.000Z");

/**
 * The table in memory, for the calls the token path makes: the counter's conditional increment and its refund,
 * and the recording transaction's conditions on the ban and the room. `fail` makes the next calls of a kind throw.
 */
class MemoryTable implements Table {
  readonly table = "memory";
  readonly items = new Map<string, DocItem>();
  readonly calls: string[] = [];
  fail: { update?: Error; transactWrite?: Error } = {};

  put(item: DocItem) {
    this.items.set(`${String(item.pk)}|${String(item.sk)}`, item);
  }
  get(pk: string, sk: string): DocItem | undefined {
    return this.items.get(`${pk}|${sk}`);
  }
  async batchGet(keys: DocItem[]) {
    this.calls.push("batchGet");
    const items = keys.flatMap((k): DocItem[] => {
      const item = this.get(String(k.pk), String(k.sk));
      return item ? [item] : [];
    });
    return { items, unprocessed: [] };
  }
  async update(input: DocUpdate) {
    this.calls.push("update");
    if (this.fail.update) throw this.fail.update;
    const key = input.Key as { pk: string; sk: string };
    const values = input.ExpressionAttributeValues!;
    const id = String(values[":id"]);
    const counter = this.get(key.pk, key.sk) as { count: number; requests: Set<string> } | undefined;
    const refused = () =>
      Object.assign(new Error("condition"), { name: "ConditionalCheckFailedException", Item: counter });
    if (input.UpdateExpression.startsWith("ADD #c :one")) {
      // The charge: under the limit and not yet counted for this request.
      if (counter && (counter.count >= Number(values[":limit"]) || counter.requests.has(id))) throw refused();
      this.put({
        ...key,
        count: (counter?.count ?? 0) + 1,
        requests: new Set([...(counter?.requests ?? []), id]),
        expiresAt: values[":exp"],
      });
    } else {
      // The refund: only a request that was counted.
      if (!counter?.requests.has(id)) throw refused();
      this.put({ ...key, count: counter.count - 1, requests: new Set([...counter.requests].filter((r) => r !== id)) });
    }
  }
  async transactWrite(items: DocTransactItem[]) {
    this.calls.push("transactWrite");
    if (this.fail.transactWrite) throw this.fail.transactWrite;
    const reasons = items.map((item) => {
      const check = item.ConditionCheck as
        { Key: { pk: string; sk: string }; ExpressionAttributeValues?: DocItem } | undefined;
      if (!check) return "None";
      const found = this.get(check.Key.pk, check.Key.sk);
      if (check.Key.sk.startsWith("BAN#"))
        return found && Number(found.untilMs) > Number(check.ExpressionAttributeValues![":now"])
          ? "ConditionalCheckFailed"
          : "None";
      return found ? "None" : "ConditionalCheckFailed";
    });
    if (reasons.some((r) => r !== "None")) {
      throw Object.assign(new Error("cancelled"), {
        name: "TransactionCanceledException",
        CancellationReasons: reasons.map((Code) => ({ Code })),
      });
    }
    for (const item of items) if (item.Put) this.put(item.Put.Item as DocItem);
  }
  count(userId: string) {
    return this.get(`ROOM#${ROOM}`, `RATE#${userId}#${Math.floor(NOW / 60_000)}`)?.count;
  }
}

/** An issuer that counts what it is asked; `refuse` makes admit() throw 429, `fail` makes issue() throw. */
function fakeIssuer(opts: { refuse?: boolean; fail?: Error } = {}) {
  const seen = { admitted: 0, issued: 0 };
  let n = 0;
  const issuer: TokenIssuer = {
    admit(): Admission {
      if (opts.refuse) throw new RateLimitedError("IVS is throttling participant tokens; retry shortly", 1);
      seen.admitted++;
      return {
        async issue(): Promise<IssuedToken> {
          seen.issued++;
          if (opts.fail) throw opts.fail;
          return {
            participantId: `p${++n}`,
            token: `token-${n}`,
            expirationTime: new Date(NOW + 3_600_000).toISOString(),
          };
        },
      };
    },
  };
  return { issuer, seen };
}

function setup(opts: { limit?: number; issuer?: ReturnType<typeof fakeIssuer> } = {}) {
  const table = new MemoryTable();
  table.put({
    pk: `ROOM#${ROOM}`,
    sk: "ROOM",
    roomId: ROOM,
    stageArn: `arn:aws:ivs:us-east-1:123456789012:stage/${ROOM}`,
    name: "r",
    ownerId: "owner",
    createdAt: "",
    updatedAt: "",
    policy: defaultPolicy(),
    tags: {},
    endpoints: {},
    version: 1,
  });
  const issuer = opts.issuer ?? fakeIssuer();
  const deps = {
    config: { tokenRatePerMinute: opts.limit ?? 5, tokenMode: "api" as const },
    table,
    issuer: issuer.issuer,
    now: () => NOW,
  };
  return { table, seen: issuer.seen, request: (caller: Caller) => issueToken(deps, request(caller)) };
}

const viewer = (userId = "u1"): Caller => ({ userId, displayName: userId, groups: [], isAdmin: false });

let requests = 0;
function request(caller: Caller): AuthenticatedRequest {
  return {
    routeKey: "POST /rooms/{roomId}/token",
    method: "POST",
    path: `/rooms/${ROOM}/token`,
    pathParameters: { roomId: ROOM },
    query: {},
    headers: {},
    body: undefined,
    rawBody: "",
    requestId: `request-${++requests}`,
    deadline: NOW + 10_000,
    caller,
  };
}

describe("the caller's limit is charged before a token is asked for", () => {
  it("12 concurrent requests with a limit of 5: 5 tokens, 7 × 429 with Retry-After, and the issuer asked 5 times", async () => {
    const s = setup({ limit: 5 });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => s.request(viewer())));
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(ok).toHaveLength(5);
    expect(refused).toHaveLength(7);
    for (const e of refused) {
      expect(e).toBeInstanceOf(RateLimitedError);
      // To the next minute: the request came 30 s into it.
      expect((e as RateLimitedError).headers["retry-after"]).toBe("30");
    }
    // Those refused by the charge never reached the issuer.
    expect(s.seen).toEqual({ admitted: 12, issued: 5 });
    expect(s.table.count("u1")).toBe(5);
  });

  it("a caller already at the limit is refused from the read: no write, nothing asked of the issuer", async () => {
    const s = setup({ limit: 2 });
    await s.request(viewer());
    await s.request(viewer());
    s.table.calls.length = 0;
    await expect(s.request(viewer())).rejects.toBeInstanceOf(RateLimitedError);
    expect(s.table.calls).toEqual(["batchGet"]);
    expect(s.seen.admitted).toBe(2);
  });

  it("admins are not counted", async () => {
    const s = setup({ limit: 1 });
    const admin: Caller = { ...viewer("boss"), isAdmin: true };
    for (let i = 0; i < 3; i++) expect((await s.request(admin)).status).toBe(200);
    expect(s.table.count("boss")).toBeUndefined();
    expect(s.table.calls.filter((c) => c === "update")).toEqual([]);
  });

  it("a request the issuer's budget refuses is 429 before any charge", async () => {
    const s = setup({ issuer: fakeIssuer({ refuse: true }) });
    await expect(s.request(viewer())).rejects.toBeInstanceOf(RateLimitedError);
    expect(s.table.calls).toEqual(["batchGet"]);
  });
});

describe("a request that gets no token gives its charge back", () => {
  it("when IVS fails: the error is answered, the count is back", async () => {
    const s = setup({
      limit: 1,
      issuer: fakeIssuer({ fail: new UpstreamUnavailableError("IVS did not complete CreateParticipantToken") }),
    });
    await expect(s.request(viewer())).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(s.table.count("u1")).toBe(0);
    expect(s.seen).toEqual({ admitted: 1, issued: 1 });
    // The user's one token of the minute is still theirs.
    await expect(s.request(viewer())).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  it("when recording the participant fails", async () => {
    const s = setup({ limit: 1 });
    s.table.fail.transactWrite = Object.assign(new Error("socket hang up"), { name: "NetworkError" });
    await expect(s.request(viewer())).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(s.table.count("u1")).toBe(0);
    s.table.fail = {};
    expect((await s.request(viewer())).status).toBe(200);
    expect(s.table.count("u1")).toBe(1);
  });

  it("when a ban appeared while the token was being issued: 403 banned, not counted", async () => {
    const s = setup({ limit: 3 });
    s.table.put({
      pk: `ROOM#${ROOM}`,
      sk: "BAN#u1",
      userId: "u1",
      untilMs: NOW + 60_000,
      until: new Date(NOW + 60_000).toISOString(),
    });
    // The read saw no ban: it is written between the read and the recording.
    const read = s.table.batchGet.bind(s.table);
    s.table.batchGet = async (keys) => {
      const out = await read(keys);
      return { ...out, items: out.items.filter((i) => !String(i.sk).startsWith("BAN#")) };
    };
    await expect(s.request(viewer())).rejects.toBeInstanceOf(BannedError);
    expect(s.table.count("u1")).toBe(0);
  });

  it("if the refund fails too, the request's own failure is answered and the charge stays", async () => {
    const s = setup({
      limit: 1,
      issuer: fakeIssuer({ fail: new UpstreamUnavailableError("IVS did not complete CreateParticipantToken") }),
    });
    const update = s.table.update.bind(s.table);
    s.table.update = async (input) => {
      if (input.UpdateExpression.startsWith("ADD #c :minus"))
        throw Object.assign(new Error("socket hang up"), { name: "NetworkError" });
      return update(input);
    };
    await expect(s.request(viewer())).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(s.table.count("u1")).toBe(1);
  });
});
