// A store suite's table: the template's table in the run's DynamoDB Local (tests/support/dynamodb-local.ts; one of
// the suite's own if the project has none), behind a counting proxy of the suite's own, with the two clients the
// functions use on it: the SDK's document client (every function but the token one) and the lite client (the token
// function's). Made before the suite's tests, deleted after.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { createTableFromTemplate, deleteTable, startDynamoDb, type LocalDynamoDb } from "../../local/dynamodb.ts";
import { loadTemplate, tableOf } from "../../local/template.ts";
import { createLiteClient, DYNAMODB, type LiteClient } from "../../shared/aws/lite/client.ts";
import type { Db } from "../../shared/store/db.ts";
import { sharedDynamoDbLocal } from "./table-names.ts";

export { uniqueTableName } from "./table-names.ts";

export const LOCAL_REGION = "us-east-1";

export interface LocalTable {
  ddb: LocalDynamoDb;
  /** The SDK's document client on the table. */
  db: Db;
  /** The token function's client, with its settings (3 attempts, 2.5 s each). */
  lite: LiteClient;
}

/**
 * Registers the suite's table, named `tableName` (from `uniqueTableName`: no other suite's, in a DynamoDB Local the
 * run shares); use the returned getter inside tests.
 */
export function useLocalTable(tableName: string): () => LocalTable {
  let current: LocalTable | undefined;
  const shared = sharedDynamoDbLocal();
  beforeAll(async () => {
    const ddb = await startDynamoDb({ region: LOCAL_REGION, ...(shared ? { directEndpoint: shared } : {}) });
    await createTableFromTemplate(ddb.directEndpoint, LOCAL_REGION, tableName, tableOf(loadTemplate()).properties);
    const credentials = { accessKeyId: "local", secretAccessKey: "local" };
    current = {
      ddb,
      db: {
        doc: DynamoDBDocumentClient.from(
          new DynamoDBClient({ endpoint: ddb.endpoint, region: LOCAL_REGION, credentials }),
        ),
        table: tableName,
      },
      lite: createLiteClient(DYNAMODB, {
        maxAttempts: 3,
        timeoutMs: 2_500,
        env: {
          AWS_REGION: LOCAL_REGION,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
        },
      }),
    };
  }, 120_000);
  afterAll(async () => {
    current?.db.doc.destroy();
    current?.lite.close();
    if (current) await deleteTable(current.ddb.directEndpoint, LOCAL_REGION, tableName);
    await current?.ddb.close();
  });
  return () => {
    if (!current) throw new Error("DynamoDB Local is not started");
    return current;
  };
}
