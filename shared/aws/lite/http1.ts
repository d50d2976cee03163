// A small HTTP/1.1 client for the token path's AWS calls: keep-alive connections over node:tls (node:net for an
// http:// endpoint), one request at a time per connection, requests written and responses parsed here. It exists
// because node:http's client costs 30-45 µs a request on this path, more than the JWT check the request is for
// (docs/performance.md); AWS's JSON APIs need only this much of HTTP/1.1.
//
// Handles: Content-Length and chunked bodies, a body that ends with the connection, 1xx interim responses,
// `Connection: close`, connections the server closes while idle (and those its `Keep-Alive: timeout` says it is about
// to close), and a per-request timeout or abort signal.
// Does not handle: redirects, compression, request bodies other than one string, pipelining.
import * as net from "node:net";
import * as tls from "node:tls";

export interface Http1Request {
  method: string;
  path: string;
  /** Lower-case names; `host` and `content-length` are added. */
  headers: Record<string, string>;
  body: string;
  /** The request fails (and its connection is closed) after this long without a complete response. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Http1Response {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

/** The request did not get a complete response: no status, so callers treat it as transient. */
export class Http1Error extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = code === "ETIMEDOUT" ? "TimeoutError" : "NetworkError";
  }
}

const HEADER_END = Buffer.from("\r\n\r\n");
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})/;
const CRLF = Buffer.from("\r\n");
/** An idle connection is not reused this close to the end of the server's announced keep-alive timeout. */
const KEEP_ALIVE_MARGIN_MS = 1_000;
/** A response head larger than this is not from the services we call. */
const MAX_HEAD_BYTES = 64 * 1024;

type Parsed = { response: Http1Response; used: number; close: boolean };

/**
 * Parses one response from the start of `buf`: the response and the bytes it used, or undefined when more bytes are
 * needed. A body with neither a length nor chunks runs to the end of the connection: it is returned once `ended`,
 * marked `close`.
 */
export function parseResponse(buf: Buffer, ended: boolean): Parsed | undefined {
  let offset = 0;
  for (;;) {
    const headEnd = buf.indexOf(HEADER_END, offset);
    if (headEnd < 0) {
      if (buf.length - offset > MAX_HEAD_BYTES) throw new Http1Error("response head too large", "EPROTO");
      if (ended) throw new Http1Error("connection closed before the response head", "ECONNRESET");
      return undefined;
    }
    const head = buf.toString("latin1", offset, headEnd);
    const statusLine = STATUS_LINE.exec(head);
    if (!statusLine) throw new Http1Error(`not an HTTP/1.x response: ${JSON.stringify(head.slice(0, 40))}`, "EPROTO");
    const status = Number(statusLine[2]);
    const headers: Record<string, string> = {};
    // One header per line after the status line; a line without a name is skipped.
    for (let at = head.indexOf("\r\n"); at >= 0;) {
      const start = at + 2;
      const end = head.indexOf("\r\n", start);
      const stop = end < 0 ? head.length : end;
      const colon = head.indexOf(":", start);
      if (colon > start && colon < stop) {
        const name = head.slice(start, colon).trim().toLowerCase();
        const value = head.slice(colon + 1, stop).trim();
        headers[name] = Object.hasOwn(headers, name) ? `${headers[name]}, ${value}` : value;
      }
      at = end;
    }
    const bodyStart = headEnd + 4;
    // 1xx responses (100 Continue) are interim: skip them, the real one follows.
    if (status >= 100 && status < 200) {
      offset = bodyStart;
      continue;
    }
    const close =
      statusLine[1] === "0" ? !/keep-alive/i.test(headers.connection ?? "") : /close/i.test(headers.connection ?? "");
    const done = (body: string, used: number): Parsed => ({ response: { status, headers, body }, used, close });
    if (status === 204 || status === 304) return done("", bodyStart);
    if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
      const chunks: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = buf.indexOf(CRLF, at);
        if (lineEnd < 0) return needMore(ended);
        const size = Number.parseInt(buf.toString("latin1", at, lineEnd).split(";")[0]!.trim(), 16);
        if (!Number.isFinite(size) || size < 0) throw new Http1Error("bad chunk size", "EPROTO");
        if (size === 0) {
          // The last chunk's line, then trailers (if any), then an empty line: the first CRLFCRLF from here.
          const end = buf.indexOf(HEADER_END, lineEnd);
          if (end < 0) return needMore(ended);
          return done(Buffer.concat(chunks).toString("utf8"), end + 4);
        }
        if (buf.length < lineEnd + 2 + size + 2) return needMore(ended);
        chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
    }
    const length = headers["content-length"];
    if (length !== undefined) {
      const n = Number(length);
      if (!Number.isInteger(n) || n < 0) throw new Http1Error("bad content-length", "EPROTO");
      if (buf.length < bodyStart + n) return needMore(ended);
      return done(buf.toString("utf8", bodyStart, bodyStart + n), bodyStart + n);
    }
    // No framing: the body is whatever arrives before the server closes the connection.
    if (!ended) return undefined;
    return { ...done(buf.toString("utf8", bodyStart), buf.length), close: true };
  }
}

function needMore(ended: boolean): undefined {
  if (ended) throw new Http1Error("connection closed mid-response", "ECONNRESET");
  return undefined;
}

interface Pending {
  resolve(response: Http1Response): void;
  reject(error: Error): void;
}

/** One connection; carries one request at a time. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private ended = false;
  closed = false;
  /** When the connection went back to the pool, and how long the server said it keeps an idle one (ms). */
  idleSince = 0;
  keepAliveMs = Number.POSITIVE_INFINITY;

  constructor(
    readonly socket: net.Socket,
    private readonly onIdle: (c: Connection) => void,
    private readonly onGone: (c: Connection) => void,
  ) {
    socket.setNoDelay?.(true);
    socket.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.tryParse();
    });
    socket.on("end", () => {
      this.ended = true;
      this.tryParse();
      this.close();
    });
    socket.on("error", (error: Error & { code?: string }) =>
      this.close(new Http1Error(error.message, error.code ?? "ECONNRESET", { cause: error })),
    );
    socket.on("close", () => this.close());
  }

  send(head: string, body: string, pending: Pending): void {
    this.pending = pending;
    this.socket.ref?.();
    this.socket.write(body ? head + body : head);
  }

  private tryParse(): void {
    if (!this.pending) {
      // Bytes nobody asked for: the connection cannot be trusted for the next request.
      if (this.buffer.length > 0) this.close();
      return;
    }
    let parsed: Parsed | undefined;
    try {
      parsed = parseResponse(this.buffer, this.ended);
    } catch (error) {
      this.close(error as Error);
      return;
    }
    if (!parsed) return;
    const pending = this.pending;
    this.pending = undefined;
    this.buffer = this.buffer.subarray(parsed.used);
    if (parsed.close || this.ended || this.buffer.length > 0) this.close();
    else {
      // `Keep-Alive: timeout=5` (node's servers send it): the server drops the connection after that long idle.
      const timeout = /timeout=(\d+)/i.exec(parsed.response.headers["keep-alive"] ?? "");
      if (timeout) this.keepAliveMs = Number(timeout[1]) * 1000;
      this.release();
    }
    pending.resolve(parsed.response);
  }

  /** Back to the client's idle pool, not holding the process open. */
  release(): void {
    this.idleSince = Date.now();
    this.socket.unref?.();
    this.onIdle(this);
  }

  /** Closes the connection; a request still waiting on it fails with `error` (or a reset). */
  close(error?: Error): void {
    if (!this.closed) {
      this.closed = true;
      this.socket.destroy();
      this.onGone(this);
    }
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error ?? new Http1Error("connection closed before the response", "ECONNRESET"));
  }
}

export interface Http1Client {
  request(req: Http1Request): Promise<Http1Response>;
  /**
   * Opens one connection (TCP and TLS handshakes) ahead of the first request and keeps it idle for it: called during
   * Lambda's init, it takes the handshakes off the first request's path. Resolves once connected, or when the
   * connection failed or took longer than `timeoutMs` (then the first request connects as usual); never rejects.
   */
  preconnect(timeoutMs?: number): Promise<void>;
  /** Closes every connection. */
  close(): void;
}

/** A client for one origin (`https://host[:port]` or `http://host:port`); connections are kept and reused. */
export function createHttp1Client(origin: string, opts: { maxIdle?: number } = {}): Http1Client {
  const url = new URL(origin);
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") throw new Error(`unsupported endpoint protocol ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (secure ? 443 : 80));
  const hostHeader = url.host;
  const maxIdle = opts.maxIdle ?? 16;
  const idle: Connection[] = [];
  const all = new Set<Connection>();

  const connect = (): Connection => {
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"] })
      : net.connect({ host, port });
    const connection = new Connection(
      socket,
      (c) => {
        if (idle.length < maxIdle) idle.push(c);
        else c.close();
      },
      (c) => {
        all.delete(c);
        const i = idle.indexOf(c);
        if (i >= 0) idle.splice(i, 1);
      },
    );
    all.add(connection);
    return connection;
  };

  return {
    request(req) {
      return new Promise<Http1Response>((resolve, reject) => {
        if (req.signal?.aborted) {
          reject(abortError(req.signal));
          return;
        }
        let connection = idle.pop();
        // Not one the server is about to drop: a request written as it closes would fail for nothing.
        while (
          connection &&
          (connection.closed || Date.now() - connection.idleSince >= connection.keepAliveMs - KEEP_ALIVE_MARGIN_MS)
        ) {
          connection.close();
          connection = idle.pop();
        }
        connection ??= connect();
        const c = connection;
        let settled = false;
        const finish = (error: Error | undefined, response?: Http1Response) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          req.signal?.removeEventListener("abort", onAbort);
          if (error) reject(error);
          else resolve(response!);
        };
        const onAbort = () => {
          const e = abortError(req.signal!);
          finish(e);
          c.close(e);
        };
        const timer = setTimeout(() => {
          const e = new Http1Error(`no response within ${req.timeoutMs} ms`, "ETIMEDOUT");
          finish(e);
          c.close(e);
        }, req.timeoutMs);
        req.signal?.addEventListener("abort", onAbort, { once: true });
        let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${hostHeader}\r\n`;
        for (const name in req.headers) head += `${name}: ${req.headers[name]}\r\n`;
        head += `content-length: ${Buffer.byteLength(req.body)}\r\n\r\n`;
        c.send(head, req.body, { resolve: (r) => finish(undefined, r), reject: (e) => finish(e) });
      });
    },
    preconnect(timeoutMs = 2_000) {
      const c = connect();
      return new Promise<void>((resolve) => {
        const event = secure ? "secureConnect" : "connect";
        const done = () => {
          clearTimeout(timer);
          c.socket.off(event, connected);
          c.socket.off("close", done);
          resolve();
        };
        const connected = () => {
          c.release();
          done();
        };
        const timer = setTimeout(() => {
          c.close();
          done();
        }, timeoutMs);
        timer.unref?.();
        c.socket.once("close", done);
        // Just made, so not connected yet; a socket that is no net.Socket (the bench's in-memory one) is from the start.
        if (c.socket instanceof net.Socket) c.socket.once(event, connected);
        else connected();
      });
    },
    close() {
      for (const c of [...all]) c.close();
    },
  };
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as Error | undefined;
  return reason instanceof Error ? reason : new Http1Error("request aborted", "ABORT_ERR");
}
