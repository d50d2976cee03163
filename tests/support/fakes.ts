// In-memory fakes of the use cases' ports (their `deps`), for unit tests: no stack, no network. Each answers the calls
// stagepass makes the way the real service answers them (items, conditions, cancellation reasons, error names and
// statuses), records what it was asked, and can be told to fail.
import type { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { IssuedToken, Admission, TokenIssuer, TokenRequest } from "../../functions/token/issuers.ts";
import type { Caller } from "../../shared/auth/caller.ts";
import { loadConfig, type Config } from "../../shared/config.ts";
import type { HttpEvent } from "../../shared/http/middlewares/types.ts";
import type { AuthenticatedRequest } from "../../shared/http/types.ts";
import type { Db, DocItem, DocTransactItem, DocUpdate, Table } from "../../shared/store/db.ts";

type Item = Record<string, unknown>;
interface Command {
  constructor: { name: string };
  input: Record<string, any>;
}

const clone = <T>(value: T): T => structuredClone(value);

/** An error as an AWS SDK client throws it: a name, a message and the HTTP status in $metadata. */
export function awsError(name: string, status: number, message = name, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, ...extra });
}

/** What a request that never got an answer throws (a connection refused or cut). */
export const unreachable = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000"), { name: "Error", code: "ECONNREFUSED" });

/** Failures queued for the next calls of an operation (or of any operation). */
class Faults {
  private rules: Array<{ op: string | undefined; error: () => Error; remaining: number }> = [];
  add(op: string | undefined, error: () => Error, count: number) {
    this.rules.push({ op, error, remaining: count });
  }
  clear() {
    this.rules = [];
  }
  throwIfAny(op: string) {
    const rule = this.rules.find((r) => r.op === undefined || r.op === op);
    if (!rule) return;
    if (--rule.remaining <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
    throw rule.error();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB: one table (pk, sk, the gsi1 index with keys only), behind the document client and the token path's port.

/**
 * The condition expressions stagepass writes: comparisons, attribute_exists / attribute_not_exists, contains, NOT,
 * AND, OR and parentheses.
 */
function conditionHolds(
  expression: string,
  item: Item | undefined,
  names: Record<string, string> = {},
  values: Record<string, unknown> = {},
): boolean {
  const attribute = (token: string) => (token.startsWith("#") ? names[token]! : token);
  const operand = (token: string) => (token.startsWith(":") ? values[token] : item?.[attribute(token)]);
  const tokens = expression.match(/\(|\)|,|<>|<=|>=|=|<|>|[^\s(),<>=]+/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(`the fake table does not understand the condition ${JSON.stringify(expression)}`);
    }
    return token;
  };
  const or = (): boolean => {
    let result = and();
    while (peek() === "OR") {
      take();
      result = and() || result;
    }
    return result;
  };
  const and = (): boolean => {
    let result = not();
    while (peek() === "AND") {
      take();
      result = not() && result;
    }
    return result;
  };
  const not = (): boolean => {
    if (peek() === "NOT") {
      take();
      return !not();
    }
    return primary();
  };
  const primary = (): boolean => {
    if (peek() === "(") {
      take();
      const result = or();
      take(")");
      return result;
    }
    const first = take();
    if (first === "attribute_exists" || first === "attribute_not_exists" || first === "contains") {
      take("(");
      const name = take();
      let needle: unknown;
      if (first === "contains") {
        take(",");
        needle = operand(take());
      }
      take(")");
      const value = item?.[attribute(name)];
      if (first === "contains") {
        if (value instanceof Set) return value.has(needle);
        if (Array.isArray(value) || typeof value === "string") return value.includes(needle as string);
        return false;
      }
      return first === "attribute_exists" ? value !== undefined : value === undefined;
    }
    const op = take();
    const [a, b] = [operand(first), operand(take())];
    if (a === undefined || b === undefined) return false;
    switch (op) {
      case "=":
        return a === b;
      case "<>":
        return a !== b;
      case "<":
        return (a as number) < (b as number);
      case "<=":
        return (a as number) <= (b as number);
      case ">":
        return (a as number) > (b as number);
      case ">=":
        return (a as number) >= (b as number);
      default:
        throw new Error(`the fake table does not understand the condition ${JSON.stringify(expression)}`);
    }
  };
  const result = or();
  if (at !== tokens.length) take("<end>");
  return result;
}

function applyUpdate(
  expression: string,
  item: Item,
  names: Record<string, string> = {},
  values: Record<string, unknown> = {},
): void {
  const attribute = (token: string) => (token.startsWith("#") ? names[token]! : token);
  for (const [, action, body] of expression.matchAll(
    /(ADD|SET|REMOVE|DELETE)\s+(.*?)(?=\s+(?:ADD|SET|REMOVE|DELETE)\s|$)/g,
  )) {
    for (const part of body!.split(",").map((p) => p.trim())) {
      if (action === "ADD" || action === "DELETE") {
        const [name, value] = part.split(/\s+/) as [string, string];
        const given = values[value];
        const current = item[attribute(name)];
        if (given instanceof Set) {
          const set = new Set(current instanceof Set ? current : []);
          for (const v of given) {
            if (action === "ADD") set.add(v);
            else set.delete(v);
          }
          if (set.size) item[attribute(name)] = set;
          else delete item[attribute(name)];
        } else {
          item[attribute(name)] = Number(current ?? 0) + Number(given);
        }
      } else if (action === "SET") {
        const [name, value] = part.split(/\s*=\s*/) as [string, string];
        item[attribute(name)] = values[value];
      } else {
        delete item[attribute(part)];
      }
    }
  }
}

const keyOf = (key: Item) => `${String(key.pk)}\u0000${String(key.sk)}`;

export class FakeTable {
  /** The items, by pk and sk. */
  readonly items = new Map<string, Item>();
  /** Every call, by command name (the token path's port: BatchGetItem, TransactWriteItems). */
  readonly calls: string[] = [];
  private readonly faults = new Faults();

  constructor(readonly name = "stagepass-test") {}

  /** The next `count` calls of `op` (a command name, or any when undefined) fail with `error`. */
  fail(op: string | undefined, error: () => Error = unreachable, count = 1): void {
    this.faults.add(op, error, count);
  }

  heal(): void {
    this.faults.clear();
  }

  /** Every item, sorted: for "nothing changed" checks. */
  snapshot(): Item[] {
    return [...this.items.values()].map(clone).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  /** The items of one partition whose sort key starts with `prefix`. */
  partition(pk: string, prefix = ""): Item[] {
    return this.snapshot().filter((i) => i.pk === pk && String(i.sk).startsWith(prefix));
  }

  get(key: Item): Item | undefined {
    const found = this.items.get(keyOf(key));
    return found ? clone(found) : undefined;
  }

  /** The Db port (shared/store/db.ts) on a fake document client. */
  get db(): Db {
    return {
      doc: { send: (command: Command) => this.send(command) } as unknown as DynamoDBDocumentClient,
      table: this.name,
    };
  }

  /** The token path's port (shared/store/db.ts Table), as the token function's lite table implements it. */
  get tokenTable(): Table {
    return {
      table: this.name,
      batchGet: async (keys) => {
        this.call("BatchGetItem");
        return { items: keys.map((k) => this.get(k)).filter((i): i is Item => i !== undefined), unprocessed: [] };
      },
      update: async (input: DocUpdate) => {
        this.call("UpdateItem");
        const current = this.items.get(keyOf(input.Key));
        this.check(input, current);
        const item = current ? clone(current) : clone(input.Key);
        applyUpdate(input.UpdateExpression, item, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
        this.items.set(keyOf(input.Key), item);
      },
      transactWrite: async (items) => {
        this.call("TransactWriteItems");
        this.transact(items);
      },
    };
  }

  private call(op: string): void {
    this.calls.push(op);
    this.faults.throwIfAny(op);
  }

  private async send(command: Command): Promise<unknown> {
    const op = command.constructor.name;
    const input = command.input;
    this.call(op);
    switch (op) {
      case "GetCommand":
        return { Item: this.get(input.Key) };
      case "PutCommand": {
        this.check(input, this.items.get(keyOf(input.Item)));
        this.items.set(keyOf(input.Item), clone(input.Item));
        return {};
      }
      case "DeleteCommand": {
        const old = this.items.get(keyOf(input.Key));
        this.check(input, old);
        this.items.delete(keyOf(input.Key));
        return input.ReturnValues === "ALL_OLD" && old ? { Attributes: clone(old) } : {};
      }
      case "QueryCommand":
        return this.query(input);
      case "BatchGetCommand": {
        const request = input.RequestItems[this.name] as { Keys: Item[] };
        return {
          Responses: { [this.name]: request.Keys.map((k) => this.get(k)).filter(Boolean) },
          UnprocessedKeys: {},
        };
      }
      case "BatchWriteCommand": {
        for (const write of input.RequestItems[this.name] as Array<{
          PutRequest?: { Item: Item };
          DeleteRequest?: { Key: Item };
        }>) {
          if (write.PutRequest) this.items.set(keyOf(write.PutRequest.Item), clone(write.PutRequest.Item));
          if (write.DeleteRequest) this.items.delete(keyOf(write.DeleteRequest.Key));
        }
        return { UnprocessedItems: {} };
      }
      case "TransactWriteCommand":
        this.transact(input.TransactItems);
        return {};
      default:
        throw new Error(`the fake table does not serve ${op}`);
    }
  }

  private check(input: Record<string, any>, item: Item | undefined): void {
    if (
      input.ConditionExpression &&
      !conditionHolds(input.ConditionExpression, item, input.ExpressionAttributeNames, input.ExpressionAttributeValues)
    ) {
      throw awsError("ConditionalCheckFailedException", 400, "The conditional request failed");
    }
  }

  /** All or nothing; a failed condition cancels the whole transaction with one reason per item, as DynamoDB does. */
  private transact(items: DocTransactItem[]): void {
    const reasons = items.map((entry) => {
      const [kind, body] = Object.entries(entry).find(([, b]) => b !== undefined) as [string, Record<string, any>];
      const key = kind === "Put" ? body.Item : body.Key;
      const current = this.items.get(keyOf(key));
      if (
        !body.ConditionExpression ||
        conditionHolds(body.ConditionExpression, current, body.ExpressionAttributeNames, body.ExpressionAttributeValues)
      ) {
        return { Code: "None" };
      }
      return {
        Code: "ConditionalCheckFailed",
        ...(body.ReturnValuesOnConditionCheckFailure === "ALL_OLD" && current ? { Item: clone(current) } : {}),
      };
    });
    if (reasons.some((r) => r.Code !== "None")) {
      throw awsError(
        "TransactionCanceledException",
        400,
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`,
        { CancellationReasons: reasons },
      );
    }
    for (const entry of items) {
      const [kind, body] = Object.entries(entry).find(([, b]) => b !== undefined) as [string, Record<string, any>];
      if (kind === "Put") this.items.set(keyOf(body.Item), clone(body.Item));
      if (kind === "Delete") this.items.delete(keyOf(body.Key));
      if (kind === "Update") {
        const item = this.items.get(keyOf(body.Key)) ?? clone(body.Key as Item);
        applyUpdate(body.UpdateExpression, item, body.ExpressionAttributeNames, body.ExpressionAttributeValues);
        this.items.set(keyOf(body.Key), item);
      }
    }
  }

  /** The two key conditions stagepass queries with: a partition (optionally a sort-key prefix), or gsi1 (keys only). */
  private query(input: Record<string, any>): { Items: Item[]; LastEvaluatedKey?: Item } {
    const values = input.ExpressionAttributeValues as Record<string, string>;
    const onIndex = input.IndexName === "gsi1";
    if (input.IndexName !== undefined && !onIndex) throw new Error(`the fake table has no index ${input.IndexName}`);
    const [hash, range] = onIndex ? ["gsi1pk", "gsi1sk"] : ["pk", "sk"];
    const condition = String(input.KeyConditionExpression);
    const prefix = /begins_with\(sk, (:\w+)\)/.exec(condition)?.[1];
    const after = /gsi1sk > (:\w+)/.exec(condition)?.[1];
    const hashValue = values[/= (:\w+)/.exec(condition)![1]!];
    let found = [...this.items.values()]
      .filter((i) => i[hash] === hashValue)
      .filter((i) => prefix === undefined || String(i[range]).startsWith(values[prefix]!))
      .filter((i) => after === undefined || String(i[range]) > values[after]!)
      .sort((a, b) => (String(a[range]) < String(b[range]) ? -1 : String(a[range]) > String(b[range]) ? 1 : 0));
    if (input.ScanIndexForward === false) found.reverse();
    if (input.ExclusiveStartKey) {
      const start = found.findIndex((i) => keyOf(i) === keyOf(input.ExclusiveStartKey));
      found = found.slice(start + 1);
    }
    const page = input.Limit !== undefined ? found.slice(0, input.Limit) : found;
    const project = (i: Item): Item => {
      if (onIndex) return { pk: i.pk, sk: i.sk, gsi1pk: i.gsi1pk, gsi1sk: i.gsi1sk };
      if (input.ProjectionExpression)
        return Object.fromEntries(
          String(input.ProjectionExpression)
            .split(",")
            .map((n) => [n.trim(), i[n.trim()]]),
        );
      return clone(i);
    };
    const last = page.length < found.length ? page[page.length - 1] : undefined;
    return {
      Items: page.map(project),
      ...(last
        ? {
            LastEvaluatedKey: {
              pk: last.pk,
              sk: last.sk,
              ...(onIndex ? { gsi1pk: last.gsi1pk, gsi1sk: last.gsi1sk } : {}),
            },
          }
        : {}),
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// IVS Real-Time: stages and disconnects.

export interface FakeStage {
  arn: string;
  name: string;
  tags: Record<string, string>;
  endpoints: { events: string; whip: string };
}

export class FakeIvs {
  readonly stages = new Map<string, FakeStage>();
  /** Every call: operation name and input. */
  readonly calls: Array<{ op: string; input: Record<string, any> }> = [];
  readonly disconnected: Array<{ stageArn: string; participantId: string; reason?: string }> = [];
  /** Called as each call arrives: what else holds at that moment (a ban already written, say). */
  onCall: ((op: string, input: Record<string, any>) => void) | undefined;
  private readonly faults = new Faults();
  private next = 0;

  constructor(readonly maxStages = 100) {}

  /** The next `count` calls of `op` fail with `error` (an SDK error: awsError("ThrottlingException", 429), ...). */
  fail(op: string, error: () => Error, count = 1): void {
    this.faults.add(op, error, count);
  }

  heal(): void {
    this.faults.clear();
  }

  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  get client(): IVSRealTimeClient {
    return { send: (command: Command) => this.send(command) } as unknown as IVSRealTimeClient;
  }

  private async send(command: Command): Promise<unknown> {
    const op = command.constructor.name.replace(/Command$/, "");
    const input = command.input;
    this.calls.push({ op, input: clone(input) });
    this.onCall?.(op, input);
    this.faults.throwIfAny(op);
    const notFound = () => awsError("ResourceNotFoundException", 404, "Stage not found");
    switch (op) {
      case "CreateStage": {
        if (this.stages.size >= this.maxStages)
          throw awsError("ServiceQuotaExceededException", 402, "Limit of stages reached");
        const id = `Stage${String(++this.next).padStart(7, "0")}`;
        const stage: FakeStage = {
          arn: `arn:aws:ivs:us-east-1:123456789012:stage/${id}`,
          name: input.name ?? "",
          tags: { ...input.tags },
          endpoints: { events: `wss://events.example/${id}`, whip: `https://whip.example/${id}` },
        };
        this.stages.set(stage.arn, stage);
        return { stage: clone(stage) };
      }
      case "GetStage": {
        const stage = this.stages.get(input.arn);
        if (!stage) throw notFound();
        return { stage: clone(stage) };
      }
      case "DeleteStage":
        if (!this.stages.delete(input.arn)) throw notFound();
        return {};
      case "DisconnectParticipant":
        if (!this.stages.has(input.stageArn)) throw notFound();
        this.disconnected.push({
          stageArn: input.stageArn,
          participantId: input.participantId,
          ...(input.reason ? { reason: input.reason } : {}),
        });
        return {};
      default:
        throw new Error(`the fake IVS does not serve ${op}`);
    }
  }
}

/** IVS's answers to a call that fails: throttled (429), failing (500). */
export const throttled = () => awsError("ThrottlingException", 429, "Rate exceeded");
export const ivsFailing = () => awsError("InternalServerException", 500, "Internal failure");

// ---------------------------------------------------------------------------------------------------------------
// The disconnect queue (SQS SendMessageBatch) and the user pool's groups (Cognito).

export class FakeQueue {
  readonly url = "https://sqs.us-east-1.amazonaws.com/123456789012/disconnects";
  readonly messages: unknown[] = [];

  get client(): SQSClient {
    return {
      send: async (command: Command) => {
        if (command.constructor.name !== "SendMessageBatchCommand")
          throw new Error(`the fake queue does not serve ${command.constructor.name}`);
        const entries = command.input.Entries as Array<{ Id: string; MessageBody: string }>;
        this.messages.push(...entries.map((e) => JSON.parse(e.MessageBody)));
        return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
      },
    } as unknown as SQSClient;
  }
}

export class FakeUserPool {
  /** Groups of each user, by sub. */
  readonly groups = new Map<string, string[]>();
  readonly calls: string[] = [];

  get client(): CognitoIdentityProviderClient {
    return {
      send: async (command: Command) => {
        const op = command.constructor.name;
        this.calls.push(op);
        if (op === "ListUsersCommand") {
          const sub = /sub = "([^"]*)"/.exec(command.input.Filter)?.[1] ?? "";
          return { Users: this.groups.has(sub) ? [{ Username: `user-${sub}` }] : [] };
        }
        if (op === "AdminListGroupsForUserCommand") {
          const sub = String(command.input.Username).replace(/^user-/, "");
          return { Groups: (this.groups.get(sub) ?? []).map((GroupName) => ({ GroupName })) };
        }
        throw new Error(`the fake user pool does not serve ${op}`);
      },
    } as unknown as CognitoIdentityProviderClient;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The token issuer (IVS CreateParticipantToken, or self-signed), a clock, callers, requests and configuration.

export class FakeIssuer implements TokenIssuer {
  readonly issued: Array<TokenRequest & { participantId: string }> = [];
  /** Runs while the token is being made (before it is returned): a ban or a deletion racing the request. */
  meanwhile: (() => void | Promise<void>) | undefined;
  failWith: (() => Error) | undefined;
  private next = 0;

  constructor(private readonly now: () => number) {}

  /** Always admits (the IVS call budget has unit tests of its own: tests/unit/call-budget.test.ts). */
  admit(): Admission {
    return { issue: (request) => this.issue(request) };
  }

  async issue(request: TokenRequest): Promise<IssuedToken> {
    if (this.failWith) throw this.failWith();
    await this.meanwhile?.();
    const participantId = `Participant${String(++this.next).padStart(9, "0")}`;
    this.issued.push({ ...request, participantId });
    return {
      participantId,
      token: `token-of-${participantId}`,
      expirationTime: new Date(this.now() + request.durationMinutes * 60_000).toISOString(),
    };
  }
}

/** A clock the test moves: starts at a minute's start, so that per-minute counters do not roll over by accident. */
export class Clock {
  constructor(public ms = Date.parse("2026-03-02T10:00:00.000Z")) {}
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function caller(
  userId: string,
  opts: { groups?: string[]; admin?: boolean; displayName?: string } = {},
): Caller {
  const groups = opts.groups ?? (opts.admin ? ["admin"] : []);
  return { userId, displayName: opts.displayName ?? userId, groups, isAdmin: opts.admin ?? groups.includes("admin") };
}

/** Each request its own id, as API Gateway gives each its own (the token charge is idempotent per request id). */
let requests = 0;

export function request(
  who: Caller,
  opts: {
    routeKey?: string;
    pathParameters?: Record<string, string>;
    body?: unknown;
    headers?: Record<string, string>;
    query?: Record<string, string>;
  } = {},
): AuthenticatedRequest {
  const routeKey = opts.routeKey ?? "POST /rooms";
  const [method, path] = routeKey.split(" ") as [string, string];
  const rawBody = opts.body === undefined ? "" : JSON.stringify(opts.body);
  return {
    routeKey,
    method,
    path,
    pathParameters: opts.pathParameters ?? {},
    query: opts.query ?? {},
    headers: opts.headers ?? {},
    body: opts.body,
    rawBody,
    requestId: `req-unit-${++requests}`,
    deadline: Date.now() + 10_000,
    caller: who,
  };
}

/** API Gateway's event (HTTP API, payload 2.0) for `routeKey`, as a function's handler receives it. */
export function httpEvent(
  routeKey: string,
  opts: {
    headers?: Record<string, string>;
    body?: string;
    requestId?: string;
    pathParameters?: Record<string, string>;
  } = {},
): HttpEvent {
  const [method, path] = routeKey.split(" ") as [string, string];
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: "",
    isBase64Encoded: false,
    headers: opts.headers ?? {},
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.pathParameters ? { pathParameters: opts.pathParameters } : {}),
    requestContext: {
      requestId: opts.requestId ?? "apigw-req-1",
      http: { method, path },
    } as HttpEvent["requestContext"],
  };
}

export function config(env: Record<string, string> = {}): Config {
  return loadConfig({
    TABLE_NAME: "stagepass-test",
    USER_POOL_ID: "us-east-1_UnitTests",
    USER_POOL_CLIENT_IDS: "unitclient",
    DISCONNECT_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/disconnects",
    ...env,
  });
}

/** Everything an API function's use cases are given, on fakes. */
export function fakeDeps(env: Record<string, string> = {}) {
  const table = new FakeTable();
  const ivs = new FakeIvs();
  const queue = new FakeQueue();
  const userPool = new FakeUserPool();
  const clock = new Clock();
  const deps = {
    config: config(env),
    db: table.db,
    ivs: ivs.client,
    sqs: queue.client,
    cognito: userPool.client,
    now: clock.now,
  };
  return { deps, table, ivs, queue, userPool, clock };
}

export type { DocItem };
