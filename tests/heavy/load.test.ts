// A bounded load test of the offline stack: 1,000 token requests at concurrency 50 (LOAD_TOKENS and LOAD_CONCURRENCY
// scale it; LOAD_TOKENS=10000 is the first release's volume, ~3 minutes on a 2-core machine for no assertion more).
// It asserts what holds on any machine, however busy: every answer is a token or a retryable refusal (429/503 with
// Retry-After, as when DynamoDB Local cannot keep up) and never another status. How fast is the bench's business
// (npm run bench); the figures are printed for information. The storm of 100 kicks under IVS's disconnect rate:
// tests/heavy/kick-storm.test.ts.
import { Agent, request } from "node:http";
import { describe, expect, it } from "vitest";
import { useStack } from "../support/stack.ts";

const TOKENS = Number(process.env.LOAD_TOKENS ?? 1_000);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 50);

const stack = useStack({ env: { ...process.env, TOKEN_RATE_PER_MINUTE: "1000000" } });

interface Answer {
  status: number;
  text: string;
  retryAfter: string | undefined;
  contentType: string | undefined;
}

function post(agent: Agent, url: URL, path: string, token: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path,
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            text,
            retryAfter: res.headers["retry-after"],
            contentType: res.headers["content-type"],
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** A refusal the client can act on: 429 or 503, a problem document with its code, and Retry-After. */
function expectRetryable(a: Answer) {
  expect([429, 503], a.text).toContain(a.status);
  expect(a.contentType).toBe("application/problem+json");
  expect(JSON.parse(a.text).code).toBe(a.status === 429 ? "rate_limited" : "upstream_unavailable");
  expect(a.retryAfter).toMatch(/^[1-9]\d*$/);
}

describe("load", () => {
  it(`${TOKENS} token requests at concurrency ${CONCURRENCY}`, async () => {
    const s = stack();
    const owner = await s.login("load-owner");
    const room = await s.createRoom(owner, { name: "load" });
    const viewers = await Promise.all(Array.from({ length: 20 }, (_, i) => s.login(`load-viewer-${i}`)));
    const url = new URL(s.url);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    const refusals: Answer[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOKENS) {
          const i = next++;
          const viewer = viewers[i % viewers.length]!;
          const t0 = performance.now();
          const r = await post(agent, url, `/rooms/${room.roomId}/token`, viewer.idToken, "{}");
          latencies.push(performance.now() - t0);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status !== 200) refusals.push(r);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    console.log(
      `load: ${TOKENS} token requests at concurrency ${CONCURRENCY} in ${seconds.toFixed(1)} s = ${(TOKENS / seconds).toFixed(0)} req/s, ` +
        `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    // Tokens, or refusals a client retries after Retry-After: never a 500, never another status.
    for (const r of refusals) expectRetryable(r);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  }, 600_000);
});
