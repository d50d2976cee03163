// Runs each function as Lambda runs it: in sandboxes (worker threads, each importing the bundle with the
// environment the template gives the function) that handle one invocation at a time, with a Lambda-like context.
// Under concurrent load more sandboxes start, up to a bound (the function's reserved concurrency, else a local
// default); an invocation that finds every sandbox busy at the bound waits for one, for as long as its caller
// waits (the HTTP API gives up at API Gateway's integration timeout; the queue stand-in waits, as an event source
// mapping does). A sandbox whose invocation overruns the function's timeout, or that crashes, is discarded alone,
// as Lambda discards it: the invocations in the other sandboxes go on. One sandbox starts with the function (so an
// init error fails the start); the others start on demand, and those idle for a while retire.
import { Worker } from "node:worker_threads";
import { randomUUID } from "node:crypto";
import type { BuiltFunction } from "./build.ts";

export class FunctionTimeoutError extends Error {}
export class FunctionError extends Error {}
/** The caller gave up (its signal fired) before the function answered; a queued invocation never ran. */
export class InvocationAbortedError extends Error {}
/** Reserved concurrency 0: Lambda throttles every invocation of the function. */
export class FunctionThrottledError extends Error {}

export interface InvokeOptions {
  /**
   * When it fires the caller stops waiting: an invocation still queued for a sandbox leaves the queue unrun, a
   * running one runs on (Lambda does not stop it) and its result is dropped. Either way invoke() rejects with
   * InvocationAbortedError. Without a signal an invocation waits for a sandbox as long as it takes.
   */
  signal?: AbortSignal;
}

export interface FunctionRuntime {
  name: string;
  invoke(event: unknown, options?: InvokeOptions): Promise<unknown>;
  close(): Promise<void>;
}

export interface SandboxStats {
  /** Most sandboxes at once. */
  bound: number;
  /** Live sandboxes: starting, idle or busy. */
  sandboxes: number;
  starting: number;
  busy: number;
  /** Invocations waiting for a free sandbox. */
  waiting: number;
  /** Sandboxes started since the function started (replacements included). */
  started: number;
}

export interface LocalFunction extends FunctionRuntime {
  stats(): SandboxStats;
}

export interface RuntimeOptions {
  /** The function's ReservedConcurrentExecutions: the bound, whatever maxSandboxes says. */
  reservedConcurrency?: number;
  /** The bound for a function without reserved concurrency. Default DEFAULT_MAX_SANDBOXES. */
  maxSandboxes?: number;
  /** How long a sandbox may stay idle before it retires (the last one stays). Default DEFAULT_SANDBOX_IDLE_MS. */
  idleMs?: number;
  /**
   * Each line the function's sandboxes write on stdout or stderr (its logs, its metrics), in place of the
   * process's own stdout and stderr, where they go otherwise. A line cut by the sandbox's end is passed as is.
   */
  output?: (stream: "stdout" | "stderr", line: string) => void;
}

export const DEFAULT_MAX_SANDBOXES = 10;
export const DEFAULT_SANDBOX_IDLE_MS = 60_000;

const workerUrl = new URL("./lambda-worker.mjs", import.meta.url);

interface Invocation {
  event: unknown;
  resolve(value: unknown): void;
  reject(error: Error): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  settled: boolean;
}

interface Sandbox {
  worker: Worker;
  state: "starting" | "idle" | "busy" | "gone";
  /** The first sandbox: its init error fails startFunction instead of an invocation. */
  eager: boolean;
  ready: Promise<void>;
  markReady(): void;
  failInit(error: Error): void;
  current: { id: string; invocation: Invocation; timer: NodeJS.Timeout } | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

type WorkerMessage = { type?: "ready" | "init-error"; id?: string; result?: unknown; error?: string };

export async function startFunction(
  built: BuiltFunction,
  env: Record<string, string>,
  options: RuntimeOptions = {},
): Promise<LocalFunction> {
  const name = built.definition.logicalId;
  const timeoutMs = built.definition.timeoutSeconds * 1000;
  const bound = options.reservedConcurrency ?? options.maxSandboxes ?? DEFAULT_MAX_SANDBOXES;
  const idleMs = options.idleMs ?? DEFAULT_SANDBOX_IDLE_MS;
  if (!Number.isInteger(bound) || bound < 0)
    throw new Error(`${name}: the sandbox bound must be an integer ≥ 0, not ${bound}`);

  const sandboxes = new Set<Sandbox>();
  /** Idle sandboxes, the most recently freed last: reused first, so that the others age and retire. */
  const idle: Sandbox[] = [];
  const waiting: Invocation[] = [];
  let starting = 0;
  let started = 0;
  let closing = false;

  const settle = (invocation: Invocation, error: Error | undefined, value?: unknown) => {
    if (invocation.settled) return;
    invocation.settled = true;
    if (invocation.onAbort) invocation.signal?.removeEventListener("abort", invocation.onAbort);
    if (error) invocation.reject(error);
    else invocation.resolve(value);
  };

  /** Takes a sandbox out of the pool at once (it no longer counts against the bound) and ends its worker. */
  const discard = (sandbox: Sandbox): Promise<unknown> | undefined => {
    if (sandbox.state === "gone") return undefined;
    if (sandbox.state === "starting") starting -= 1;
    sandbox.state = "gone";
    sandboxes.delete(sandbox);
    const at = idle.indexOf(sandbox);
    if (at >= 0) idle.splice(at, 1);
    clearTimeout(sandbox.idleTimer);
    if (sandbox.current) clearTimeout(sandbox.current.timer);
    return sandbox.worker.terminate();
  };

  const makeIdle = (sandbox: Sandbox) => {
    sandbox.state = "idle";
    idle.push(sandbox);
    sandbox.idleTimer = setTimeout(() => {
      if (sandbox.state === "idle" && sandboxes.size > 1) void discard(sandbox);
    }, idleMs);
    sandbox.idleTimer.unref();
  };

  const run = (sandbox: Sandbox, invocation: Invocation) => {
    clearTimeout(sandbox.idleTimer);
    sandbox.state = "busy";
    const id = randomUUID();
    // Lambda's timeout runs from the start of the invocation in its sandbox, not from when it was queued.
    const deadline = Date.now() + timeoutMs;
    const timer = setTimeout(() => {
      // Lambda ends the invocation and discards its sandbox; the other sandboxes are untouched.
      settle(invocation, new FunctionTimeoutError(`${name} timed out after ${timeoutMs} ms`));
      void discard(sandbox);
      dispatch();
    }, timeoutMs);
    sandbox.current = { id, invocation, timer };
    try {
      sandbox.worker.postMessage({ id, event: invocation.event, deadline, requestId: id });
    } catch (error) {
      clearTimeout(timer);
      sandbox.current = undefined;
      settle(invocation, new FunctionError(`${name}: the event cannot be sent to the function: ${String(error)}`));
      makeIdle(sandbox);
    }
  };

  /** Hands waiting invocations to idle sandboxes, and starts sandboxes for the rest while under the bound. */
  const dispatch = () => {
    if (closing) return;
    while (waiting.length > 0) {
      const sandbox = idle.pop();
      if (sandbox) {
        run(sandbox, waiting.shift()!);
        continue;
      }
      if (starting >= waiting.length || sandboxes.size >= bound) break;
      spawn(false);
    }
  };

  const spawn = (eager: boolean): Sandbox => {
    started += 1;
    starting += 1;
    const output = options.output;
    const worker = new Worker(workerUrl, {
      env,
      workerData: {
        bundlePath: built.bundlePath,
        exportName: built.exportName,
        functionName: name,
        memorySize: built.definition.memorySize,
      },
      ...(output ? { stdout: true, stderr: true } : {}),
    });
    worker.unref();
    if (output) {
      readLines(worker.stdout, (line) => output("stdout", line));
      readLines(worker.stderr, (line) => output("stderr", line));
    }
    let markReady!: () => void;
    let failInit!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failInit = reject;
    });
    ready.catch(() => undefined);
    const sandbox: Sandbox = {
      worker,
      state: "starting",
      eager,
      ready,
      markReady,
      failInit,
      current: undefined,
      idleTimer: undefined,
    };
    sandboxes.add(sandbox);

    // A sandbox that cannot initialise fails the start (the first one) or one waiting invocation, as Lambda
    // answers the invocation that met an init error; the rest may get a sandbox of their own.
    const initFailed = (error: Error) => {
      if (!discard(sandbox)) return;
      sandbox.failInit(error);
      const invocation = sandbox.eager ? undefined : waiting.shift();
      if (invocation) settle(invocation, error);
      dispatch();
    };
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "ready") {
        if (sandbox.state !== "starting") return;
        starting -= 1;
        sandbox.markReady();
        makeIdle(sandbox);
        dispatch();
        return;
      }
      if (m.type === "init-error") return initFailed(new FunctionError(`${name} failed to initialise: ${m.error}`));
      const call = sandbox.current;
      if (!call || call.id !== m.id || sandbox.state !== "busy") return;
      sandbox.current = undefined;
      clearTimeout(call.timer);
      settle(call.invocation, m.error !== undefined ? new FunctionError(m.error) : undefined, m.result);
      makeIdle(sandbox);
      dispatch();
    });
    // A sandbox that dies (an uncaught error, process.exit) fails only the invocation it was running.
    const died = (why: string) => {
      if (sandbox.state === "starting") return initFailed(new FunctionError(`${name} failed to initialise: ${why}`));
      const call = sandbox.current;
      if (!discard(sandbox)) return;
      if (call) settle(call.invocation, new FunctionError(`${name} ${why}`));
      dispatch();
    };
    worker.on("error", (error) => died(`crashed: ${error.message}`));
    worker.on("exit", (code) => died(`exited with code ${code}`));
    return sandbox;
  };

  if (bound > 0) await spawn(true).ready;

  return {
    name,
    invoke(event, invokeOptions = {}) {
      if (closing) return Promise.reject(new FunctionError(`${name} is stopped`));
      if (bound === 0)
        return Promise.reject(new FunctionThrottledError(`${name} is throttled: its reserved concurrency is 0`));
      const { signal } = invokeOptions;
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(new InvocationAbortedError(`${name}: the caller gave up before invoking`));
        const invocation: Invocation = { event, resolve, reject, signal, onAbort: undefined, settled: false };
        if (signal) {
          invocation.onAbort = () => {
            const at = waiting.indexOf(invocation);
            if (at >= 0) waiting.splice(at, 1);
            settle(
              invocation,
              new InvocationAbortedError(
                at >= 0
                  ? `${name}: the caller gave up while the invocation waited for a free sandbox`
                  : `${name}: the caller gave up before the function answered`,
              ),
            );
          };
          signal.addEventListener("abort", invocation.onAbort, { once: true });
        }
        waiting.push(invocation);
        dispatch();
      });
    },
    stats() {
      const busy = [...sandboxes].filter((s) => s.state === "busy").length;
      return { bound, sandboxes: sandboxes.size, starting, busy, waiting: waiting.length, started };
    },
    async close() {
      closing = true;
      const stopped = new FunctionError(`${name} is stopped`);
      for (const invocation of waiting.splice(0)) settle(invocation, stopped);
      await Promise.all(
        [...sandboxes].map((sandbox) => {
          const call = sandbox.current;
          const ended = discard(sandbox);
          if (call) settle(call.invocation, stopped);
          return ended;
        }),
      );
    },
  };
}

/** Calls `onLine` with each line of a text stream (without its newline), and with what is left when it ends. */
function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    let end = pending.indexOf("\n");
    while (end >= 0) {
      emit(onLine, pending.slice(0, end));
      pending = pending.slice(end + 1);
      end = pending.indexOf("\n");
    }
  });
  stream.on("end", () => {
    if (pending) emit(onLine, pending);
    pending = "";
  });
}

/** A failing output callback is the caller's bug: said on stderr, never a crash of the stack. */
function emit(onLine: (line: string) => void, line: string): void {
  try {
    onLine(line);
  } catch (error) {
    process.stderr.write(`function output callback failed: ${String((error as Error)?.stack ?? error)}\n`);
  }
}
