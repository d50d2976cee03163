// A bounded load loop (the bench's autocannon): a fixed number of requests at a fixed concurrency over keep-alive
// connections, each worker sending as its own user, every latency recorded, every status counted.
import { Agent, request } from "node:http";

export interface LoadOptions {
  url: string;
  method: string;
  path: string;
  /** One bearer token per worker (worker i sends as tokens[i % tokens.length]). */
  tokens: string[];
  body?: string;
  requests: number;
  concurrency: number;
  /** Per-request timeout. */
  timeoutMs?: number;
}

export interface LoadResult {
  requests: number;
  concurrency: number;
  durationMs: number;
  requestsPerSecond: number;
  /** 2xx answers per second. */
  okPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
  non2xx: number;
  /** Transport errors (refused, reset, timed out). */
  errors: number;
  firstError?: string;
  /** Non-2xx answers that carried a Retry-After header. */
  withRetryAfter: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let firstError: string | undefined;
  let withRetryAfter = 0;
  let next = 0;
  const body = options.body !== undefined ? Buffer.from(options.body) : undefined;

  const once = (token: string) =>
    new Promise<void>((resolve) => {
      const t0 = process.hrtime.bigint();
      const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
      if (body) {
        headers["content-type"] = "application/json";
        headers["content-length"] = body.length;
      }
      const req = request(
        { agent, host: target.hostname, port: target.port, method: options.method, path: options.path, headers },
        (res) => {
          res.on("data", () => undefined);
          res.on("end", () => {
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            const status = String(res.statusCode ?? 0);
            statuses[status] = (statuses[status] ?? 0) + 1;
            if ((res.statusCode ?? 0) >= 300 && res.headers["retry-after"] !== undefined) withRetryAfter++;
            resolve();
          });
        },
      );
      req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error("timed out")));
      req.on("error", (error) => {
        errors++;
        firstError ??= error.message;
        resolve();
      });
      req.end(body);
    });

  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      const token = options.tokens[worker % options.tokens.length]!;
      while (next < options.requests) {
        next++;
        await once(token);
      }
    }),
  );
  const durationMs = performance.now() - started;
  agent.destroy();

  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]! : NaN;
  const ok = Object.entries(statuses)
    .filter(([s]) => s.startsWith("2"))
    .reduce((n, [, c]) => n + c, 0);
  return {
    requests: options.requests,
    concurrency: options.concurrency,
    durationMs,
    requestsPerSecond: (options.requests / durationMs) * 1000,
    okPerSecond: (ok / durationMs) * 1000,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? NaN,
    statuses,
    non2xx: options.requests - ok - errors,
    errors,
    ...(firstError ? { firstError } : {}),
    withRetryAfter,
  };
}
