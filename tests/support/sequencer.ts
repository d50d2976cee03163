// The order of test files. The workers each take the next file as they finish one, so a long file that starts late
// leaves one worker alone at the end of its group: the long files come first, whatever vitest's cache holds (on a
// clean clone it holds nothing, and vitest runs the largest files first, which are not the longest). In the
// projects that run through the offline stack: load (a stack of its own) and fuzz (which scans the shared table
// before and after each of its requests, so the smaller the table the better) start first, side by side while the
// table is nearly empty; then the suites that mostly wait (for a browser, for IVS's read budget, for retries), whose
// waiting the other workers fill; the other heavy suites (the kick storm) come last, so that their items do not grow
// the table under the suites that scan it.
import { BaseSequencer, type TestSpecification } from "vitest/node";

const FIRST = [
  // Before unit and integration's other files: `npm start` as a process, the IAM analysis, SAM's builds.
  "integration/stack-process",
  "integration/iam",
  "integration/sam-template",
  // Through the stack.
  "heavy/load",
  "heavy/fuzz",
  "e2e/live-rooms",
  "e2e/webhooks",
  "e2e/console",
].map((name) => new RegExp(`[\\\\/]tests[\\\\/]${name.replace("/", "[\\\\/]")}\\.test\\.ts$`));
const LAST = /[\\/]tests[\\/]heavy[\\/]/;

function rank(spec: TestSpecification): number {
  const first = FIRST.findIndex((pattern) => pattern.test(spec.moduleId));
  if (first >= 0) return first;
  return LAST.test(spec.moduleId) ? FIRST.length + 1 : FIRST.length;
}

export default class Sequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const projects = [...new Set(sorted.map((spec) => spec.project.name))];
    return projects.flatMap((name) =>
      sorted.filter((spec) => spec.project.name === name).sort((a, b) => rank(a) - rank(b)),
    );
  }
}
