// Prints one plain closing line, "N passed, N failed, N skipped", that any CI can read.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed += 1;
        else if (state === "failed") failedTests += 1;
        else skipped += 1;
      }
      // A file that failed outside its tests (an import, or a beforeAll: its tests are then skipped) counts as one.
      failed += failedTests > 0 ? failedTests : module.state() === "failed" ? 1 : 0;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
