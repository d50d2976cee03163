// The stacks one worker process shares across its test files (tests/support/stack.ts), kept on globalThis: the test
// files and the test environment that closes them (stack-environment.ts) load this module each on their own.
import type { Stack } from "../../local/stack.ts";

interface Registry {
  /** Set by the environment: it will close the shared stacks when the worker stops. */
  closedAtTeardown: boolean;
  stacks: Array<Promise<{ stack: Stack }>>;
  /** What else lives as long as the worker (its build of the functions), undone after the stacks are closed. */
  cleanups: Array<() => Promise<void>>;
}

const KEY = Symbol.for("stagepass.tests.sharedStacks");

function registry(): Registry | undefined {
  return (globalThis as Record<symbol, Registry | undefined>)[KEY];
}

/** Called by the test environment as it sets up: from now on, files may share a stack. */
export function openRegistry(): void {
  (globalThis as Record<symbol, Registry | undefined>)[KEY] ??= { closedAtTeardown: true, stacks: [], cleanups: [] };
}

/** Whether this worker's stacks outlive a file (only under the environment that closes them). */
export function canShare(): boolean {
  return registry()?.closedAtTeardown === true;
}

export function register(stack: Promise<{ stack: Stack }>): void {
  registry()!.stacks.push(stack);
}

/** Runs `cleanup` when the worker stops, after its stacks are closed. */
export function atTeardown(cleanup: () => Promise<void>): void {
  registry()!.cleanups.push(cleanup);
}

/** Closes every shared stack (DynamoDB Local's JVM, the servers, the function workers); called once, at teardown. */
export async function closeSharedStacks(): Promise<void> {
  const r = registry();
  if (!r) return;
  const stacks = r.stacks.splice(0);
  await Promise.all(
    stacks.map(async (started) => {
      const s = await started.catch(() => undefined);
      await s?.stack.close();
    }),
  );
  for (const cleanup of r.cleanups.splice(0)) await cleanup().catch(() => undefined);
}
