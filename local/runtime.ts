// Runs each function's bundle in its own worker thread with the environment the template gives it, and
// invokes it with a Lambda-like context. A function that overruns its timeout is answered as Lambda would
// (an error) and its worker replaced, as Lambda replaces a timed-out sandbox.
import { Worker } from "node:worker_threads";
import { randomUUID } from "node:crypto";
import type { BuiltFunction } from "./build.ts";

export class FunctionTimeoutError extends Error {}
export class FunctionError extends Error {}

export interface FunctionRuntime {
  name: string;
  invoke(event: unknown): Promise<unknown>;
  close(): Promise<void>;
}

const workerUrl = new URL("./lambda-worker.mjs", import.meta.url);

export async function startFunction(built: BuiltFunction, env: Record<string, string>): Promise<FunctionRuntime> {
  const name = built.definition.logicalId;
  const timeoutMs = built.definition.timeoutSeconds * 1000;
  let worker: Worker;
  let ready: Promise<void>;
  let closing = false;
  const pending = new Map<string, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout; worker: Worker }>();

  const spawn = () => {
    const w = new Worker(workerUrl, {
      env,
      workerData: { bundlePath: built.bundlePath, exportName: built.exportName, functionName: name, memorySize: built.definition.memorySize },
    });
    worker = w;
    w.unref();
    let initialised = false;
    ready = new Promise<void>((resolve, reject) => {
      w.once("message", (m: { type: string; error?: string }) => {
        if (m.type !== "ready") return reject(new FunctionError(`${name} failed to initialise: ${m.error}`));
        initialised = true;
        resolve();
      });
      w.once("error", reject);
    });
    ready.catch(() => undefined);
    w.on("message", (m: { id?: string; result?: unknown; error?: string }) => {
      if (!m.id) return;
      const call = pending.get(m.id);
      if (!call) return;
      pending.delete(m.id);
      clearTimeout(call.timer);
      if (m.error !== undefined) call.reject(new FunctionError(m.error));
      else call.resolve(m.result);
    });
    // A sandbox that dies (an uncaught error, process.exit, or replaced after a timeout) fails the calls it
    // still had; if it was the current one, Lambda would start a fresh one for the next call, and so do we.
    const died = (why: string) => {
      for (const [id, call] of pending) {
        if (call.worker !== w) continue;
        clearTimeout(call.timer);
        call.reject(new FunctionError(`${name} ${why}`));
        pending.delete(id);
      }
      if (w === worker && initialised && !closing) spawn();
    };
    w.on("error", (error) => died(`crashed: ${error.message}`));
    w.on("exit", (code) => died(`exited with code ${code}`));
  };
  spawn();
  await ready!;

  return {
    name,
    async invoke(event) {
      if (closing) throw new FunctionError(`${name} is stopped`);
      await ready;
      const id = randomUUID();
      const deadline = Date.now() + timeoutMs;
      const target = worker;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new FunctionTimeoutError(`${name} timed out after ${timeoutMs} ms`));
          // Lambda discards a sandbox whose invocation timed out; so do we.
          if (target === worker && !closing) spawn();
          void target.terminate();
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer, worker: target });
        target.postMessage({ id, event, deadline, requestId: id });
      });
    },
    async close() {
      closing = true;
      for (const call of pending.values()) clearTimeout(call.timer);
      await worker.terminate();
    },
  };
}
