// An in-process stand-in for the EventBridge default event bus and the rules that template.yaml declares as
// functions' EventBridgeRule event sources. Events arrive with EventBridge's envelope already on them (as AWS
// service events do: the IVS emulator posts them to `eventsUrl`); each is matched against every enabled rule of
// its bus (local/event-pattern.ts) and handed to each matching rule's function as an asynchronous invocation would
// be: not awaited by the sender, and retried on error as Lambda retries an asynchronous invocation (the function's
// EventInvokeConfig.MaximumRetryAttempts, 0..2, default 2), then given up on and recorded as a failure. Lambda
// waits about one and then two minutes between attempts; the stand-in waits `retryDelaysMs`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { matchesPattern, validatePattern, type EventPattern } from "./event-pattern.ts";

/** An event as EventBridge delivers it to a target. */
export interface EventEnvelope {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** What a rule invokes: a function runtime (local/runtime.ts) or, in tests, a fake. */
export interface EventTarget {
  name: string;
  invoke(event: unknown): Promise<unknown>;
}

export interface EventRuleDefinition {
  /** e.g. `PresenceFunction.StageUpdates` (function logical id and event name). */
  name: string;
  pattern: EventPattern;
  /** Default `default`, the bus AWS services send to. */
  eventBusName?: string;
  /** Default true (State: ENABLED). */
  enabled?: boolean;
  target: EventTarget;
  /** Lambda's asynchronous retries after a failed attempt, 0..2. Default 2. */
  maximumRetryAttempts?: number;
  /** A constant JSON text sent instead of the event (the rule's Input). */
  input?: string;
  /** The part of the event sent (the rule's InputPath): `$` or `$.field.field`. */
  inputPath?: string;
}

export interface Delivery {
  rule: string;
  target: string;
  eventId: string;
  attempts: number;
  status: "pending" | "delivered" | "failed";
  /** The last attempt's error. */
  error?: string;
}

export interface LocalEventBus {
  /** Base URL of the bus's small HTTP API. */
  endpoint: string;
  /** POST an event envelope (or an array of them) here. */
  eventsUrl: string;
  addRule(rule: EventRuleDefinition): void;
  rules(): Array<{ name: string; eventBusName: string; enabled: boolean; pattern: EventPattern; target: string }>;
  /** Puts an event on a bus; returns the names of the rules it matched. */
  publish(event: EventEnvelope, eventBusName?: string): string[];
  deliveries(): Delivery[];
  /** Deliveries given up on, with their event. */
  failures(): Array<Delivery & { event: EventEnvelope }>;
  /** Resolves once no delivery is pending (or rejects after timeoutMs). */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface EventBusOptions {
  /** Waits before the 1st and 2nd retries. Default [200, 400] (Lambda: about 60 000 and 120 000). */
  retryDelaysMs?: number[];
}

const DEFAULT_BUS = "default";
const LOG_LIMIT = 1000;
const MAX_BODY_BYTES = 1024 * 1024;
const INPUT_PATH = /^\$(\.[A-Za-z0-9_-]+)*$/;

/** Every problem with an event envelope; empty when it is one. */
export function envelopeProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return ["an event must be a JSON object"];
  const e = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of ["version", "id", "detail-type", "source", "account", "time", "region"]) {
    if (typeof e[field] !== "string" || e[field] === "") problems.push(`${field} must be a non-empty string`);
  }
  if (typeof e.time === "string" && Number.isNaN(Date.parse(e.time))) problems.push("time must be an ISO 8601 time");
  if (!Array.isArray(e.resources) || !e.resources.every((r) => typeof r === "string"))
    problems.push("resources must be an array of strings");
  if (typeof e.detail !== "object" || e.detail === null || Array.isArray(e.detail))
    problems.push("detail must be a JSON object");
  return problems;
}

function inputFor(rule: EventRuleDefinition, event: EventEnvelope): unknown {
  if (rule.input !== undefined) return JSON.parse(rule.input) as unknown;
  if (rule.inputPath === undefined || rule.inputPath === "$") return event;
  let value: unknown = event;
  for (const key of rule.inputPath.slice(2).split(".")) {
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value ?? null;
}

export async function startEventBus(options: EventBusOptions = {}): Promise<LocalEventBus> {
  const retryDelaysMs = options.retryDelaysMs ?? [200, 400];
  const rules: Array<
    Required<Pick<EventRuleDefinition, "eventBusName" | "enabled" | "maximumRetryAttempts">> & EventRuleDefinition
  > = [];
  const deliveries: Delivery[] = [];
  const failures: Array<Delivery & { event: EventEnvelope }> = [];
  let pending = 0;
  let closed = false;
  const timers = new Set<NodeJS.Timeout>();

  const remember = <T>(log: T[], item: T) => {
    log.push(item);
    if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT);
  };

  const deliver = (rule: (typeof rules)[number], event: EventEnvelope) => {
    const delivery: Delivery = {
      rule: rule.name,
      target: rule.target.name,
      eventId: event.id,
      attempts: 0,
      status: "pending",
    };
    remember(deliveries, delivery);
    pending++;
    const settle = (status: "delivered" | "failed") => {
      if (delivery.status !== "pending") return; // already settled by close()
      delivery.status = status;
      pending--;
      if (status === "failed") remember(failures, { ...delivery, event });
    };
    const attempt = () => {
      if (closed) return settle("failed");
      delivery.attempts++;
      let payload: unknown;
      try {
        payload = inputFor(rule, event);
      } catch (error) {
        delivery.error = (error as Error).message;
        return settle("failed");
      }
      rule.target.invoke(payload).then(
        () => {
          delete delivery.error;
          settle("delivered");
        },
        (error: unknown) => {
          delivery.error = error instanceof Error ? error.message : String(error);
          if (delivery.attempts > rule.maximumRetryAttempts || closed) return settle("failed");
          const wait = retryDelaysMs[delivery.attempts - 1] ?? retryDelaysMs.at(-1) ?? 0;
          const timer = setTimeout(() => {
            timers.delete(timer);
            attempt();
          }, wait);
          timer.unref();
          timers.add(timer);
        },
      );
    };
    attempt();
  };

  const publish = (event: EventEnvelope, eventBusName = DEFAULT_BUS): string[] => {
    const matched = rules.filter(
      (r) => r.enabled && r.eventBusName === eventBusName && matchesPattern(r.pattern, event),
    );
    for (const rule of matched) deliver(rule, event);
    return matched.map((r) => r.name);
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on("error", () => res.destroy());
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0];
      if (path !== "/events") return reply(404, { message: "Not Found" });
      if (req.method === "GET") {
        return reply(200, { rules: api.rules(), deliveries, failures });
      }
      if (req.method !== "POST") return reply(405, { message: "Method Not Allowed" });
      if (size > MAX_BODY_BYTES) return reply(413, { message: "Request body too large." });
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reply(400, { message: "The body must be an event envelope (JSON), or an array of them." });
      }
      const events = Array.isArray(body) ? body : [body];
      const problems = events.flatMap((e, i) =>
        envelopeProblems(e).map((p) => (events.length > 1 ? `[${i}] ${p}` : p)),
      );
      if (events.length === 0) problems.push("no event");
      if (problems.length > 0) return reply(400, { message: problems.join("; ") });
      return reply(200, { entries: (events as EventEnvelope[]).map((e) => ({ id: e.id, matchedRules: publish(e) })) });
    });
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const api: LocalEventBus = {
    endpoint,
    eventsUrl: `${endpoint}/events`,
    addRule(rule) {
      const problems = validatePattern(rule.pattern);
      if (problems.length > 0) throw new Error(`${rule.name}: invalid event pattern: ${problems.join("; ")}`);
      const retries = rule.maximumRetryAttempts ?? 2;
      if (!Number.isInteger(retries) || retries < 0 || retries > 2)
        throw new Error(`${rule.name}: MaximumRetryAttempts must be 0, 1 or 2`);
      if (rule.inputPath !== undefined && !INPUT_PATH.test(rule.inputPath))
        throw new Error(`${rule.name}: InputPath must be $ or $.field.field`);
      if (rule.input !== undefined) {
        try {
          JSON.parse(rule.input);
        } catch {
          throw new Error(`${rule.name}: Input must be JSON text`);
        }
      }
      if (rules.some((r) => r.name === rule.name)) throw new Error(`${rule.name}: a rule with that name exists`);
      rules.push({
        ...rule,
        eventBusName: rule.eventBusName ?? DEFAULT_BUS,
        enabled: rule.enabled ?? true,
        maximumRetryAttempts: retries,
      });
    },
    rules: () =>
      rules.map((r) => ({
        name: r.name,
        eventBusName: r.eventBusName,
        enabled: r.enabled,
        pattern: r.pattern,
        target: r.target.name,
      })),
    publish,
    deliveries: () => deliveries.map((d) => ({ ...d })),
    failures: () => failures.map((f) => ({ ...f })),
    async drained(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (pending > 0) {
        if (Date.now() > until) throw new Error(`event deliveries not drained within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const d of deliveries) if (d.status === "pending") d.status = "failed";
      pending = 0;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
