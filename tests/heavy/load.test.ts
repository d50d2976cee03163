// A bounded load test of the offline stack: 10,000 token requests at concurrency 50, zero 5xx (every one a 200);
// the figures are printed. LOAD_TOKENS and LOAD_CONCURRENCY scale it down for a quick local run. The storm of 100
// kicks under IVS's disconnect rate: tests/heavy/kick-storm.test.ts.
import { Agent, request } from "node:http";
import { describe, expect, it } from "vitest";
import { useStack } from "../support/stack.ts";

const TOKENS = Number(process.env.LOAD_TOKENS ?? 10_000);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 50);

const stack = useStack({ env: { ...process.env, TOKEN_RATE_PER_MINUTE: "1000000" } });

function post(agent: Agent, url: URL, path: string, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, path, method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => { text += c; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

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
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOKENS) {
        const i = next++;
        const viewer = viewers[i % viewers.length]!;
        const t0 = performance.now();
        const r = await post(agent, url, `/rooms/${room.roomId}/token`, viewer.idToken, "{}");
        latencies.push(performance.now() - t0);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    console.log(`load: ${TOKENS} token requests at concurrency ${CONCURRENCY} in ${seconds.toFixed(1)} s = ${(TOKENS / seconds).toFixed(0)} req/s, ` +
      `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect([...statuses.keys()]).toEqual([200]);
  }, 600_000);
});
