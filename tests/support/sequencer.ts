// The order of test files: vitest's own (longest first, which keeps the workers busy), except in the projects that run
// through the offline stack, whose files two workers share: load (a stack of its own) and fuzz (which scans the
// shared table before and after each of its requests, so the smaller the table the better) start first, side by
// side while the table is nearly empty; the other heavy suites (the kick storm) come last, so that their items do not
// grow the table under the suites that scan it.
import { BaseSequencer, type TestSpecification } from "vitest/node";

const FIRST = [/[\\/]tests[\\/]heavy[\\/]load\.test\.ts$/, /[\\/]tests[\\/]heavy[\\/]fuzz\.test\.ts$/];
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
