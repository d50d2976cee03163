import { defineConfig } from "vitest/config";
import Sequencer from "./tests/support/sequencer.ts";

/**
 * Test layers (tests/README.md): unit (no stack, no network), integration (one part at a time: DynamoDB Local, the
 * IVS emulator, the function runtime, the bundles), and the suites through the offline stack (e2e, heavy), which
 * run in the "api" project and, for tokens, kicks and bans, a second time with TOKEN_MODE=self-signed.
 */
const BOTH_MODES = [
  "tests/e2e/smoke.test.ts",
  "tests/e2e/token.test.ts",
  "tests/e2e/moderation.test.ts",
  "tests/e2e/moderation-audit.test.ts",
  "tests/heavy/kick-storm.test.ts",
];

/**
 * Through the offline stack: each project's files in one worker process, one after another, sharing one stack
 * (tests/support/stack.ts) that the environment closes after the last file. Own group orders, since files are batched
 * into one worker only for a project with a group of its own.
 */
const throughTheStack = {
  isolate: false,
  maxWorkers: 1,
  environment: "./tests/support/stack-environment.ts",
} as const;

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Unit and integration files two at a time (2 cores); each stack project in a worker of its own.
    maxWorkers: 2,
    sequence: { sequencer: Sequencer },
    reporters: ["default", "./tests/support/summary-reporter.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "integration", include: ["tests/integration/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "api", include: ["tests/e2e/**/*.test.ts", "tests/heavy/**/*.test.ts"], env: { TOKEN_MODE: "api" },
          ...throughTheStack, sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: { name: "self-signed", include: BOTH_MODES, env: { TOKEN_MODE: "self-signed" }, ...throughTheStack, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
