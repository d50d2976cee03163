// Global setup of the projects whose tests use DynamoDB Local (vitest.config.ts): one DynamoDB Local JVM for the whole
// run, in vitest's main process, which every stack and store suite uses with a table of its own (a JVM takes seconds
// to start; a table, milliseconds). Spawned and not awaited, so that tests start at once: each user waits until it
// answers. Set up once however many projects list this file, closed after the last of them.
import type { TestProject } from "vitest/node";
import { spawnDynamoDbLocal, type DynamoDbLocalProcess } from "../../local/dynamodb.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's DynamoDB Local (tests/support/dynamodb-local.ts): its endpoint, for a table of one's own. */
    dynamoDbLocal: string;
  }
}

const KEY = Symbol.for("stagepass.tests.dynamoDbLocal");
interface Shared {
  started: Promise<DynamoDbLocalProcess>;
  users: number;
}
const registry = globalThis as Record<symbol, Shared | undefined>;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = (registry[KEY] ??= { started: spawnDynamoDbLocal({ region: "us-east-1" }), users: 0 });
  shared.users += 1;
  project.provide("dynamoDbLocal", (await shared.started).directEndpoint);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    registry[KEY] = undefined;
    await (await shared.started).close();
  };
}
