import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each file starts its own offline stack (a DynamoDB Local JVM among it): one file at a time on 2 cores.
    pool: "forks",
    fileParallelism: false,
    reporters: ["default", "./tests/support/summary-reporter.ts"],
  },
});
