// The order of test files: vitest's own (longest first, which keeps the parallel workers busy), except that the heavy
// suites (tests/heavy/: thousands of requests, items and stages) come last in their project, so that they do not grow
// the shared stack's table and stage list under the suites that scan them.
import { BaseSequencer, type TestSpecification } from "vitest/node";

const HEAVY = /[\\/]tests[\\/]heavy[\\/]/;

export default class Sequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const projects = [...new Set(sorted.map((spec) => spec.project.name))];
    return projects.flatMap((name) => {
      const own = sorted.filter((spec) => spec.project.name === name);
      return [...own.filter((spec) => !HEAVY.test(spec.moduleId)), ...own.filter((spec) => HEAVY.test(spec.moduleId))];
    });
  }
}
