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
  const pending = new Map<string, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();

  const spawn = () => {
    worker = new Worker(workerUrl, {
      env,
      workerData: { bundlePath: built.bundlePath, exportName: built.exportName, functionName: name, memorySize: built.definition.memorySize },
    });
    worker.unref();
    ready = new Promise<void>((resolve, reject) => {
      worker.once("message", (m: { type: string; error?: string }) =>
        m.type === "ready" ? resolve() : reject(new FunctionError(`${name} failed to initialise: ${m.error}`)));
      worker.once("error", reject);
    });
    ready.catch(() => undefined);
    worker.on("message", (m: { id?: string; result?: unknown; error?: string }) => {
      if (!m.id) return;
      const call = pending.get(m.id);
      if (!call) return;
      pending.delete(m.id);
      clearTimeout(call.timer);
      if (m.error !== undefined) call.reject(new FunctionError(m.error));
      else call.resolve(m.result);
    });
    worker.on("error", (error) => {
      for (const [id, call] of pending) {
        clearTimeout(call.timer);
        call.reject(new FunctionError(`${name} crashed: ${error.message}`));
        pending.delete(id);
      }
    });
  };
  spawn();
  await ready!;

  return {
    name,
    async invoke(event) {
      await ready;
      const id = randomUUID();
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new FunctionTimeoutError(`${name} timed out after ${timeoutMs} ms`));
          // Lambda discards a sandbox whose invocation timed out; so do we.
          const old = worker;
          spawn();
          void old.terminate();
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        worker.postMessage({ id, event, deadline, requestId: id });
      });
    },
    async close() {
      for (const call of pending.values()) clearTimeout(call.timer);
      await worker.terminate();
    },
  };
}
