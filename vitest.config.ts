import { defineConfig } from "vitest/config";

/** The suites that run a second time with TOKEN_MODE=self-signed: tokens, kicks and bans. */
const BOTH_MODES = [
  "tests/smoke.test.ts",
  "tests/token.test.ts",
  "tests/moderation.test.ts",
  "tests/moderation-audit.test.ts",
  "tests/kick-storm.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each file starts its own offline stack (a DynamoDB Local JVM among it): one file at a time on 2 cores.
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    reporters: ["default", "./tests/support/summary-reporter.ts"],
    projects: [
      { extends: true, test: { name: "api", include: ["tests/**/*.test.ts"], env: { TOKEN_MODE: "api" } } },
      { extends: true, test: { name: "self-signed", include: BOTH_MODES, env: { TOKEN_MODE: "self-signed" } } },
    ],
  },
});
