/**
 * HTTP front of the emulator: the restJson1 binding of the AWS operations plus the emulator-only `/_emulator/`
 * routes. Never throws out of a request handler; answers 500 only for an injected fault.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { ApiError, errorBody } from "./errors.ts";
import type { EventOutbox } from "./events.ts";
import { FaultInjector, parseFaultRule } from "./faults.ts";
import { randomRequestId } from "./ids.ts";
import { handleLiveRoute } from "./live-routes.ts";
import { OPERATIONS } from "./model.ts";
import type { OperationName, OperationSpec } from "./model.ts";
import { runOperation } from "./operations.ts";
import { RateLimiter } from "./rates.ts";
import type { IvsState } from "./state.ts";
import type { SigningKey } from "./tokens.ts";
import { describeValidationErrors, validateInput } from "./validate.ts";

const MAX_BODY_BYTES = 1024 * 1024;
const TAGS_PREFIX = "/tags/";

type Body = { ok: true; text: string } | { ok: false; tooLarge: true };

function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () =>
      resolve(tooLarge ? { ok: false, tooLarge: true } : { ok: true, text: Buffer.concat(chunks).toString("utf8") }),
    );
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(payload)),
    "x-amzn-RequestId": randomRequestId(),
    ...headers,
  });
  res.end(payload);
}

function sendApiError(res: ServerResponse, error: ApiError): void {
  send(res, error.status, errorBody(error.message), { "x-amzn-ErrorType": error.type });
}

/** Parses a JSON body; an empty body is `{}`. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

interface RouteMatch {
  spec: OperationSpec;
  /** The decoded `{resourceArn}` label for the tag operations (undefined when empty). */
  resourceArn?: string | undefined;
}

/** Which AWS operation a request is, by method and path; undefined for none. */
function matchOperation(method: string, rawPath: string): RouteMatch | undefined | "bad-label" {
  if (rawPath === "/tags" || rawPath.startsWith(TAGS_PREFIX)) {
    const spec = Object.values(OPERATIONS).find((o) => o.path === "/tags/{resourceArn}" && o.method === method);
    if (!spec) return undefined;
    const label = rawPath.slice(TAGS_PREFIX.length);
    if (label === "") return { spec, resourceArn: undefined };
    try {
      return { spec, resourceArn: decodeURIComponent(label) };
    } catch {
      return "bad-label";
    }
  }
  const name = rawPath.slice(1);
  if (!Object.hasOwn(OPERATIONS, name)) return undefined;
  const spec = OPERATIONS[name as OperationName];
  return spec.path === rawPath && spec.method === method ? { spec } : undefined;
}

export interface EmulatorServerOptions {
  state: IvsState;
  signingKey: SigningKey;
  enforceRates: boolean;
  /** Where the events IVS sends to EventBridge go (live-routes.ts controls them). */
  events: EventOutbox;
}

export class EmulatorServer {
  readonly server: Server;
  readonly faults = new FaultInjector();
  readonly rates: RateLimiter;
  private counts = new Map<OperationName, number>();
  private readonly state: IvsState;
  private readonly signingKey: SigningKey;
  private readonly events: EventOutbox;
  private readonly pendingDelays = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();

  constructor(options: EmulatorServerOptions) {
    this.state = options.state;
    this.signingKey = options.signingKey;
    this.events = options.events;
    this.rates = new RateLimiter({ enforce: options.enforceRates, rateOf: (op) => OPERATIONS[op].ratePerSecond });
    this.server = createServer((req, res) => {
      res.on("error", () => {});
      this.handle(req, res).catch(() => {
        // Only reachable through a bug; keep serving, and do not pretend to be an injected fault.
        send(res, 400, errorBody("The emulator could not handle this request."), {
          "x-amzn-ErrorType": "SerializationException",
        });
      });
    });
    this.server.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
  }

  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  resetCounts(): void {
    this.counts = new Map();
  }

  /** Ends pending injected delays at once (used by close()). */
  cancelDelays(): void {
    for (const pending of this.pendingDelays) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.pendingDelays.clear();
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const pending = {
        timer: setTimeout(() => {
          this.pendingDelays.delete(pending);
          resolve();
        }, ms),
        resolve,
      };
      this.pendingDelays.add(pending);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const rawUrl = req.url ?? "/";
    const queryAt = rawUrl.indexOf("?");
    const rawPath = queryAt >= 0 ? rawUrl.slice(0, queryAt) : rawUrl;
    const query = new URLSearchParams(queryAt >= 0 ? rawUrl.slice(queryAt + 1) : "");

    let body: Body;
    try {
      body = await readBody(req);
    } catch {
      return; // the client went away
    }
    if (!body.ok) {
      send(res, 413, errorBody("Request body too large."), { "x-amzn-ErrorType": "RequestEntityTooLargeException" });
      return;
    }

    if (rawPath === "/_emulator" || rawPath.startsWith("/_emulator/")) {
      this.handleEmulatorRoute(method, rawPath, body.text, res);
      return;
    }

    const match = matchOperation(method, rawPath);
    if (match === undefined) {
      sendApiError(res, new ApiError("UnknownOperationException", `No operation matches ${method} ${rawPath}.`));
      return;
    }
    if (match === "bad-label") {
      sendApiError(res, new ApiError("ValidationException", "resourceArn is not correctly URL-encoded."));
      return;
    }
    await this.handleOperation(match, query, body.text, res);
  }

  private async handleOperation(match: RouteMatch, query: URLSearchParams, text: string, res: ServerResponse) {
    const { spec } = match;
    const operation = spec.name;
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);

    const fault = this.faults.take(operation);
    if (fault) {
      await this.delay(fault.delayMs);
      if (fault.status === 429) {
        sendApiError(res, new ApiError("ThrottlingException", "Rate exceeded"));
        return;
      }
      if (fault.status === 500) {
        sendApiError(res, new ApiError("InternalServerException", "Injected fault: internal server error."));
        return;
      }
      if (fault.status === 503) {
        sendApiError(res, new ApiError("ServiceUnavailableException", "Injected fault: service unavailable."));
        return;
      }
    }

    if (!this.rates.tryAcquire(operation)) {
      sendApiError(res, new ApiError("ThrottlingException", "Rate exceeded"));
      return;
    }

    // Assemble the input from its HTTP bindings.
    const hasBodyMembers = Object.values(spec.input.members).some((m) => (m.location ?? "body") === "body");
    let input: Record<string, unknown> = {};
    if (hasBodyMembers) {
      const parsed = parseJson(text);
      if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value)) {
        sendApiError(res, new ApiError("SerializationException", "The request body is not a JSON object."));
        return;
      }
      input = { ...(parsed.value as Record<string, unknown>) };
    }
    for (const [name, member] of Object.entries(spec.input.members)) {
      if (member.location === "uri") {
        if (match.resourceArn === undefined) delete input[name];
        else input[name] = match.resourceArn;
      } else if (member.location === "query") {
        const values = query.getAll(name);
        if (values.length > 0) input[name] = values;
        else delete input[name];
      }
    }

    const errors = validateInput(input, spec.input);
    if (errors.length > 0) {
      sendApiError(res, new ApiError("ValidationException", describeValidationErrors(errors)));
      return;
    }

    try {
      send(res, 200, runOperation(this.state, operation, input));
    } catch (error) {
      if (error instanceof ApiError) sendApiError(res, error);
      else throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // /_emulator/ routes
  // ---------------------------------------------------------------------------------------------------------------

  private handleEmulatorRoute(method: string, rawPath: string, text: string, res: ServerResponse): void {
    const notFound = () => send(res, 404, { message: `No emulator route ${method} ${rawPath}.` });
    const jsonBody = (): unknown => {
      const parsed = parseJson(text);
      return parsed.ok ? parsed.value : undefined;
    };

    const live = handleLiveRoute(method, rawPath, jsonBody, { state: this.state, events: this.events });
    if (live) return send(res, live.status, live.body);

    const participants = /^\/_emulator\/stages\/([^/]+)\/participants$/.exec(rawPath);
    if (participants) {
      if (method !== "GET") return notFound();
      let stageId: string;
      try {
        stageId = decodeURIComponent(participants[1]!);
      } catch {
        return send(res, 400, { message: "Malformed stage id." });
      }
      const list = this.state.participants(stageId);
      if (!list) return send(res, 404, { message: `Stage not found: ${stageId}` });
      return send(res, 200, { participants: list });
    }

    switch (`${method} ${rawPath}`) {
      case "POST /_emulator/join": {
        const body = jsonBody();
        const token = typeof body === "object" && body !== null ? (body as { token?: unknown }).token : undefined;
        const result = this.state.join(token);
        if (result.ok) {
          return send(res, 200, {
            participantId: result.participantId,
            stageArn: result.stageArn,
            sessionId: result.sessionId,
          });
        }
        return send(res, result.status, { message: result.message });
      }
      case "POST /_emulator/faults": {
        const rule = parseFaultRule(jsonBody());
        if (typeof rule === "string") return send(res, 400, { message: rule });
        this.faults.add(rule);
        return send(res, 200, { faults: this.faults.pending() });
      }
      case "GET /_emulator/faults":
        return send(res, 200, { faults: this.faults.pending() });
      case "DELETE /_emulator/faults":
        this.faults.clear();
        return send(res, 200, { faults: [] });
      case "GET /_emulator/stats":
        return send(res, 200, { requests: this.requestCounts() });
      case "DELETE /_emulator/stats":
        this.resetCounts();
        return send(res, 200, { requests: {} });
      case "GET /_emulator/public-key":
        return send(res, 200, { pem: this.signingKey.publicKeyPem, jwk: this.signingKey.jwk });
      case "GET /_emulator/rates":
        return send(res, 200, { enforce: this.rates.isEnforced() });
      case "POST /_emulator/rates": {
        const body = jsonBody();
        const enforce = typeof body === "object" && body !== null ? (body as { enforce?: unknown }).enforce : undefined;
        if (typeof enforce !== "boolean") return send(res, 400, { message: 'Body must be {"enforce": true|false}.' });
        this.rates.setEnforce(enforce);
        return send(res, 200, { enforce });
      }
      default:
        return notFound();
    }
  }
}
