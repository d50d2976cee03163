// Every call the page makes goes through here: the stack's real HTTP API (same origin, with the signed-in user's
// JWT) or the emulator's simulated-client routes (through the stack's /_console/ivs/ path). Each reply is kept
// for the Requests panel exactly as it came back, problem documents included.

export interface Reply<T = unknown> {
  method: string;
  path: string;
  status: number;
  ok: boolean;
  /** The parsed JSON body, the text when it is not JSON, undefined when empty. */
  body: T;
  requestBody: unknown;
  requestId: string | null;
  /** Whose JWT the request carried (a username), if any. */
  as: string | null;
  at: Date;
}

/** An RFC 9457 problem document as the API sends it, or the `{message}` of API Gateway and the emulator. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  message?: string;
  until?: string;
  errors?: Array<{ path?: string; message?: string }>;
}

export interface CallOptions {
  body?: unknown;
  /** The JWT to send as `Authorization: Bearer`, and whose it is (for the Requests panel). */
  auth?: { idToken: string; username: string };
  /** Polling: not listed in the Requests panel. */
  quiet?: boolean;
}

const MAX_LOGGED = 40;
const logged: Reply[] = [];
const listeners = new Set<() => void>();

export async function call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = `Bearer ${options.auth.idToken}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let status = 0;
  let text = "";
  let requestId: string | null = null;
  try {
    const response = await fetch(path, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    status = response.status;
    requestId = response.headers.get("x-request-id") ?? response.headers.get("apigw-requestid");
    text = await response.text();
  } catch (error) {
    text = JSON.stringify({
      message: `The request did not reach the stack (is it still running?): ${(error as Error).message}`,
    });
  }
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  const reply: Reply<T> = {
    method,
    path,
    status,
    ok: status >= 200 && status < 300,
    body: body as T,
    requestBody: options.body,
    requestId,
    as: options.auth?.username ?? null,
    at: new Date(),
  };
  if (!options.quiet) {
    logged.unshift(reply);
    logged.length = Math.min(logged.length, MAX_LOGGED);
    for (const listener of listeners) listener();
  }
  return reply;
}

/** The replies so far, newest first. */
export function requestLog(): readonly Reply[] {
  return logged;
}

export function onRequest(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** API Gateway's own 404 for a path no route matches: the stack does not have that route (yet). */
export function isMissingRoute(reply: Reply): boolean {
  const body = reply.body as Problem | undefined;
  return (
    reply.status === 404 &&
    typeof body === "object" &&
    body !== null &&
    body.message === "Not Found" &&
    body.code === undefined
  );
}

/** The emulator's 404 for one of its own routes it does not have. */
export function isMissingEmulatorRoute(reply: Reply): boolean {
  const body = reply.body as Problem | undefined;
  return reply.status === 404 && typeof body?.message === "string" && body.message.startsWith("No emulator route");
}
