import type { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Config } from "./config.ts";
import type { Db } from "./store/db.ts";
import type { WebhookSink } from "./webhooks/events.ts";

/** What use cases are given: configuration, adapters and a clock. Built once per container in each index.ts. */
export interface Deps {
  config: Config;
  db: Db;
  ivs: IVSRealTimeClient;
  now(): number;
  /** Where the use cases' webhook events go (shared/webhooks/events.ts publish); absent when webhooks are off. */
  webhooks?: WebhookSink | undefined;
}

export interface DepsWithQueue extends Deps {
  sqs: SQSClient;
}
