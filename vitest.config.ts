import { defineConfig } from "vitest/config";
import Sequencer from "./tests/support/sequencer.ts";

/**
 * Test layers (tests/README.md): unit (no stack, no network), integration (one part at a time: DynamoDB Local, the
 * IVS emulator, the function runtime, the bundles), and the suites through the offline stack (e2e, heavy), which
 * run in the "api" project and, for tokens, kicks and bans, a second time with TOKEN_MODE=self-signed. Their stacks
 * run without the live rooms' watch (LIVE_WATCH_SECONDS=0), whose background reads of IVS would add to the calls
 * suites count; the suites of the watch turn it on in a stack of their own.
 */
const BOTH_MODES = [
  "tests/e2e/smoke.test.ts",
  "tests/e2e/token.test.ts",
  "tests/e2e/moderation.test.ts",
  "tests/e2e/moderation-audit.test.ts",
  // The exchange in self-signed mode, its refusal in api mode (the file defines each project's tests).
  "tests/e2e/token-exchange.test.ts",
];

/** One DynamoDB Local for the run, shared by every stack and store suite (each with tables of its own). */
const DYNAMODB_LOCAL = "./tests/support/dynamodb-local.ts";

/**
 * Through the offline stack: the files of both stack projects in three worker processes, each taking the next file
 * as it finishes one (isolate: false, so a worker keeps its modules and its stack from file to file), under the test
 * environment that closes the stacks when the worker stops. A worker shares one stack per project among the files
 * it runs (tests/support/stack.ts): three workers, so three stacks a project, the suites split between them. Three
 * on two cores: these suites spend half their time waiting (for IVS's read budget, a browser, retries), and with
 * two workers the run used 52% of the machine here (group of stack projects: 163 s with two, 145 s with three,
 * 139 s with four).
 */
const throughTheStack = {
  globalSetup: DYNAMODB_LOCAL,
  isolate: false,
  maxWorkers: 3,
  environment: "./tests/support/stack-environment.ts",
  sequence: { groupOrder: 1 },
} as const;

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two files at a time (2 cores): unit and integration first, then the suites through the stack (three at a time).
    maxWorkers: 2,
    sequence: { sequencer: Sequencer },
    reporters: ["default", "./tests/support/summary-reporter.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      {
        extends: true,
        test: { name: "integration", include: ["tests/integration/**/*.test.ts"], globalSetup: DYNAMODB_LOCAL },
      },
      {
        extends: true,
        test: {
          name: "api",
          include: ["tests/e2e/**/*.test.ts", "tests/heavy/**/*.test.ts"],
          env: { TOKEN_MODE: "api", LIVE_WATCH_SECONDS: "0" },
          ...throughTheStack,
        },
      },
      {
        extends: true,
        test: {
          name: "self-signed",
          include: BOTH_MODES,
          env: { TOKEN_MODE: "self-signed", LIVE_WATCH_SECONDS: "0" },
          ...throughTheStack,
        },
      },
    ],
  },
});
