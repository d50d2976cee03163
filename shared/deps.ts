import type { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Config } from "./config.ts";
import type { Db } from "./store/db.ts";

/** What use cases are given: configuration, adapters and a clock. Built once per container in each index.ts. */
export interface Deps {
  config: Config;
  db: Db;
  ivs: IVSRealTimeClient;
  now(): number;
}

export interface DepsWithQueue extends Deps {
  sqs: SQSClient;
}
