// The test environment of the suites that run through the offline stack (vitest.config.ts): Node's, plus the stack
// the files of one worker share (tests/support/stack.ts), closed when the worker stops after its last file. Should
// the worker die instead, its DynamoDB Local goes with it (local/dynamodb.ts) and the rest lived in its process.
import { builtinEnvironments, type Environment } from "vitest/runtime";
import { closeSharedStacks, openRegistry } from "./shared-stacks.ts";

export default {
  name: "offline-stack",
  viteEnvironment: "ssr",
  async setup(global, options) {
    const node = await builtinEnvironments.node.setup(global, options);
    openRegistry();
    return {
      async teardown(g) {
        await closeSharedStacks();
        await node.teardown(g);
      },
    };
  },
} satisfies Environment;
