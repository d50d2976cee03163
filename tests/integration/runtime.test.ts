/**
 * The offline stack's function runtime (local/runtime.ts) as Lambda runs a function: one invocation per sandbox at
 * a time, more sandboxes under concurrent load up to a bound, the excess queued, a timed-out or crashed sandbox
 * discarded without touching the invocations of the others, idle sandboxes retired, and a queued invocation whose
 * caller gives up dropped unrun. Driven with a small bundle that reports which sandbox ran it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { BuiltFunction } from "../../local/build.ts";
import { createHttpApi } from "../../local/http-api.ts";
import {
  FunctionError,
  FunctionThrottledError,
  FunctionTimeoutError,
  InvocationAbortedError,
  startFunction,
  type LocalFunction,
  type RuntimeOptions,
} from "../../local/runtime.ts";
import { functionsOf, loadTemplate, type FunctionDefinition } from "../../local/template.ts";

const dir = mkdtempSync(join(tmpdir(), "stagepass-runtime-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each sandbox imports the module once: sandboxId and the counters are per sandbox. `active` counts the
// invocations running in this sandbox at once, so a sandbox handed two at a time would report maxActive 2.
const probePath = join(dir, "probe.mjs");
writeFileSync(
  probePath,
  `
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
if (process.env.FAIL_INIT_WHEN && existsSync(process.env.FAIL_INIT_WHEN)) throw new Error("init refused by the probe");
const sandboxId = randomUUID();
let invocations = 0;
let active = 0;
let maxActive = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const handler = async (event) => {
  invocations += 1;
  active += 1;
  maxActive = Math.max(maxActive, active);
  try {
    if (event.sleepMs) await sleep(event.sleepMs);
    // Held until the test stores 1 in the shared gate (a SharedArrayBuffer reaches the sandbox shared, not copied).
    if (event.gate) { const gate = new Int32Array(event.gate); while (Atomics.load(gate, 0) === 0) await sleep(5); }
    if (event.mode === "throw") throw new Error("thrown by the handler");
    if (event.mode === "exit") process.exit(3);
    if (event.mode === "crash") { setTimeout(() => { throw new Error("uncaught in the sandbox"); }, 1); await sleep(5_000); }
    return { sandboxId, invocations, maxActive, tag: event.tag };
  } finally {
    active -= 1;
  }
};
`,
);

interface ProbeResult {
  sandboxId: string;
  invocations: number;
  maxActive: number;
  tag?: string;
}

const probe = (timeoutSeconds: number): BuiltFunction => {
  const definition: FunctionDefinition = {
    logicalId: "ProbeFunction",
    handler: "probe.handler",
    entryPoint: "probe.mjs",
    buildProperties: {},
    timeoutSeconds,
    memorySize: 128,
    environment: {},
    routes: [],
    queues: [],
  };
  return { definition, bundlePath: probePath, exportName: "handler", bytes: 0, metafile: { inputs: {}, outputs: {} } };
};

const running: LocalFunction[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.close()));
});

async function start(
  options: RuntimeOptions & { timeoutSeconds?: number; env?: Record<string, string> } = {},
): Promise<LocalFunction> {
  const { timeoutSeconds = 1, env = {}, ...runtimeOptions } = options;
  const fn = await startFunction(probe(timeoutSeconds), { AWS_REGION: "us-east-1", ...env }, runtimeOptions);
  running.push(fn);
  return fn;
}

const call = (fn: LocalFunction, event: Record<string, unknown> = {}) => fn.invoke(event) as Promise<ProbeResult>;

function gate() {
  const buffer = new SharedArrayBuffer(4);
  return { buffer, open: () => Atomics.store(new Int32Array(buffer), 0, 1) };
}

/** Waits for a condition the runtime reaches on its own (a sandbox retiring); fails after `ms`. */
async function eventually(what: string, condition: () => boolean, ms = 10_000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`not reached within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts `n` sandboxes by holding `n` invocations at once until all run, so that later ones find them warm. */
async function warm(fn: LocalFunction, n: number): Promise<Set<string>> {
  const held = gate();
  const calls = Array.from({ length: n }, () => call(fn, { gate: held.buffer }));
  await eventually(`${n} sandboxes busy`, () => fn.stats().busy === n);
  held.open();
  return new Set((await Promise.all(calls)).map((r) => r.sandboxId));
}

describe("sandboxes under concurrent load", () => {
  it("runs one invocation per sandbox at a time, starts at most the bound, and queues the rest until a sandbox is free", async () => {
    const fn = await start({ maxSandboxes: 3 });
    expect(fn.stats()).toMatchObject({ bound: 3, sandboxes: 1, started: 1 });
    const calls = Array.from({ length: 12 }, (_, i) => call(fn, { sleepMs: 100, tag: `call-${i}` }));
    // The warm sandbox took the first; two more are starting; nine wait.
    expect(fn.stats()).toMatchObject({ sandboxes: 3, busy: 1, starting: 2, waiting: 11 });
    const results = await Promise.all(calls);
    expect(results.map((r) => r.tag)).toEqual(Array.from({ length: 12 }, (_, i) => `call-${i}`));
    expect(results.every((r) => r.maxActive === 1)).toBe(true);
    const countBySandbox = new Map<string, number>();
    for (const r of results)
      countBySandbox.set(r.sandboxId, Math.max(countBySandbox.get(r.sandboxId) ?? 0, r.invocations));
    expect(countBySandbox.size).toBe(3);
    // Each sandbox counted its own invocations: together, every one of the 12.
    expect([...countBySandbox.values()].reduce((sum, n) => sum + n, 0)).toBe(12);
    expect(fn.stats()).toMatchObject({ sandboxes: 3, busy: 0, waiting: 0, started: 3 });
  });

  it("a function's reserved concurrency is its bound, whatever the local default", async () => {
    const fn = await start({ reservedConcurrency: 1, maxSandboxes: 10 });
    const results = await Promise.all(Array.from({ length: 4 }, () => call(fn, { sleepMs: 20 })));
    expect(new Set(results.map((r) => r.sandboxId)).size).toBe(1);
    expect(results.map((r) => r.invocations).sort()).toEqual([1, 2, 3, 4]);
    expect(results.every((r) => r.maxActive === 1)).toBe(true);
    expect(fn.stats()).toMatchObject({ bound: 1, started: 1 });
  });

  it("reserved concurrency 0 throttles every invocation, as Lambda does", async () => {
    const fn = await start({ reservedConcurrency: 0 });
    await expect(call(fn)).rejects.toBeInstanceOf(FunctionThrottledError);
    expect(fn.stats()).toMatchObject({ bound: 0, sandboxes: 0, started: 0 });
  });

  it("reads the bound from template.yaml: the disconnect worker reserves one concurrent execution, the others none", () => {
    const reserved = Object.fromEntries(functionsOf(loadTemplate()).map((f) => [f.logicalId, f.reservedConcurrency]));
    expect(reserved.DisconnectWorkerFunction).toBe(1);
    expect(reserved.TokenFunction).toBeUndefined();
  });
});

describe("a failing invocation fails only itself", () => {
  it("an invocation that overruns the timeout while others run in their own sandboxes ends only its own sandbox", async () => {
    const fn = await start({ maxSandboxes: 3, timeoutSeconds: 1 });
    const warmed = await warm(fn, 3);
    const overrun = call(fn, { sleepMs: 60_000, tag: "overrun" });
    // The two others start later than the overrun, so that they are still within their own timeout when it ends.
    await new Promise((r) => setTimeout(r, 400));
    const held = gate();
    const others = [call(fn, { gate: held.buffer, tag: "a" }), call(fn, { gate: held.buffer, tag: "b" })];
    await expect(overrun).rejects.toThrow(FunctionTimeoutError);
    // The overrun's sandbox is gone and no longer counts; the two others are still running.
    expect(fn.stats()).toMatchObject({ sandboxes: 2, busy: 2 });
    held.open();
    const results = await Promise.all(others);
    expect(results.map((r) => r.tag)).toEqual(["a", "b"]);
    // They ran in sandboxes warmed before, which lived on: their second invocation each.
    for (const r of results) {
      expect(warmed.has(r.sandboxId)).toBe(true);
      expect(r.invocations).toBe(2);
    }
    // Under load again, a fresh sandbox takes the discarded one's place.
    const again = await warm(fn, 3);
    expect([...again].filter((id) => !warmed.has(id))).toHaveLength(1);
    expect(fn.stats()).toMatchObject({ sandboxes: 3, started: 4 });
  });

  it.each([
    ["exits (process.exit)", "exit", /ProbeFunction exited with code 3/],
    ["crashes (an uncaught error)", "crash", /ProbeFunction crashed: uncaught in the sandbox/],
  ])(
    "an invocation whose sandbox %s fails alone; the invocations in the other sandboxes complete",
    async (_, mode, message) => {
      const fn = await start({ maxSandboxes: 3, timeoutSeconds: 5 });
      const warmed = await warm(fn, 3);
      const held = gate();
      const others = [call(fn, { gate: held.buffer, tag: "a" }), call(fn, { gate: held.buffer, tag: "b" })];
      const failing = call(fn, { mode });
      await expect(failing).rejects.toThrow(message);
      await expect(failing).rejects.toBeInstanceOf(FunctionError);
      expect(fn.stats()).toMatchObject({ sandboxes: 2, busy: 2 });
      held.open();
      const results = await Promise.all(others);
      for (const r of results) {
        expect(warmed.has(r.sandboxId)).toBe(true);
        expect(r.invocations).toBe(2);
      }
    },
  );

  it("a handler that throws fails its invocation and keeps its sandbox", async () => {
    const fn = await start({ maxSandboxes: 1 });
    const first = await call(fn);
    await expect(call(fn, { mode: "throw" })).rejects.toThrow(/thrown by the handler/);
    const next = await call(fn);
    expect(next).toMatchObject({ sandboxId: first.sandboxId, invocations: 3 });
  });

  it("a sandbox started under load that cannot initialise fails the invocation that waited for it; the function lives on", async () => {
    const flag = join(dir, "refuse-init");
    const fn = await start({ maxSandboxes: 2, env: { FAIL_INIT_WHEN: flag } });
    writeFileSync(flag, "");
    try {
      const held = gate();
      const first = call(fn, { gate: held.buffer });
      await expect(call(fn)).rejects.toThrow(/ProbeFunction failed to initialise: .*init refused by the probe/);
      expect(fn.stats()).toMatchObject({ sandboxes: 1, busy: 1, starting: 0, waiting: 0 });
      held.open();
      await expect(first).resolves.toMatchObject({ invocations: 1 });
    } finally {
      rmSync(flag, { force: true });
    }
  });

  it("a bundle that cannot initialise fails the start, as the stack's start reports it", async () => {
    const flag = join(dir, "refuse-first-init");
    writeFileSync(flag, "");
    try {
      await expect(startFunction(probe(1), { AWS_REGION: "us-east-1", FAIL_INIT_WHEN: flag })).rejects.toThrow(
        /failed to initialise/,
      );
    } finally {
      rmSync(flag, { force: true });
    }
  });
});

describe("idle sandboxes and waiting invocations", () => {
  it("sandboxes idle past idleMs retire down to one, which stays warm", async () => {
    const fn = await start({ maxSandboxes: 4, idleMs: 200 });
    expect((await warm(fn, 4)).size).toBe(4);
    await eventually("all but one sandbox retired", () => fn.stats().sandboxes === 1);
    const next = await call(fn);
    expect(next.invocations).toBeGreaterThan(1);
    expect(fn.stats()).toMatchObject({ sandboxes: 1, started: 4 });
  });

  it("an invocation whose caller gives up while it waits for a sandbox fails with InvocationAbortedError and never runs", async () => {
    const fn = await start({ maxSandboxes: 1 });
    const held = gate();
    const first = call(fn, { gate: held.buffer });
    const waited = fn.invoke({}, { signal: AbortSignal.timeout(200) });
    await expect(waited).rejects.toBeInstanceOf(InvocationAbortedError);
    await expect(waited).rejects.toThrow(/gave up while the invocation waited for a free sandbox/);
    expect(fn.stats()).toMatchObject({ busy: 1, waiting: 0 });
    held.open();
    expect((await first).invocations).toBe(1);
    // The same sandbox's next invocation is its second: the abandoned one never ran.
    expect((await call(fn)).invocations).toBe(2);
  });

  it("an invocation without a signal (as the queue stand-in sends them) waits for a free sandbox however long it takes", async () => {
    const fn = await start({ maxSandboxes: 1, timeoutSeconds: 5 });
    const held = gate();
    const first = call(fn, { gate: held.buffer });
    const queued = call(fn, { tag: "queued" });
    await new Promise((r) => setTimeout(r, 300));
    expect(fn.stats()).toMatchObject({ waiting: 1 });
    held.open();
    await expect(first).resolves.toMatchObject({ invocations: 1 });
    await expect(queued).resolves.toMatchObject({ invocations: 2, tag: "queued" });
  });

  it("through the HTTP API, a request that waits for a sandbox past the integration timeout gets API Gateway's 503", async () => {
    const fn = await start({ maxSandboxes: 1, timeoutSeconds: 5 });
    const handle = createHttpApi({
      routes: [{ method: "GET", path: "/probe", routeKey: "GET /probe", eventName: "Probe", runtime: fn }],
      cors: undefined,
      accountId: "123456789012",
      integrationTimeoutMs: 300,
    });
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on("end", () => void handle(req, res, Buffer.alloc(0)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const held = gate();
      const busy = call(fn, { gate: held.buffer });
      const r = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/probe`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ message: "Service Unavailable" });
      held.open();
      await busy;
      expect(fn.stats()).toMatchObject({ waiting: 0, started: 1 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("close() ends every sandbox and fails what was running or waiting", async () => {
    const fn = await start({ maxSandboxes: 2 });
    const held = gate();
    const outcomes = [call(fn, { gate: held.buffer }), call(fn, { gate: held.buffer }), call(fn)].map((p) =>
      p.then(
        () => "answered",
        (error: Error) => error.message,
      ),
    );
    await eventually("two sandboxes busy", () => fn.stats().busy === 2);
    await fn.close();
    expect(await Promise.all(outcomes)).toEqual(Array(3).fill("ProbeFunction is stopped"));
    expect(fn.stats()).toMatchObject({ sandboxes: 0, waiting: 0 });
    await expect(call(fn)).rejects.toThrow(/is stopped/);
  });
});
