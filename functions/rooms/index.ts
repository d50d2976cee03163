// Rooms, members, tags and administration. Clients, verifier and config are built once per container.
import { createCognitoAuthenticator } from "#shared/auth/authenticator.ts";
import { createDocumentClient } from "#shared/aws/dynamo.ts";
import { createIvsClient } from "#shared/aws/ivs.ts";
import { createSqsClient } from "#shared/aws/sqs.ts";
import { loadConfig } from "#shared/config.ts";
import { createHttpHandler } from "#shared/http/handler.ts";
import { routes } from "./routes.ts";

const config = loadConfig();
const authenticator = createCognitoAuthenticator(config);
const deps = {
  config,
  db: { doc: createDocumentClient(), table: config.tableName },
  ivs: createIvsClient(),
  sqs: createSqsClient(),
  now: Date.now,
};
await authenticator.ready;

export const handler = createHttpHandler(routes(deps), authenticator);
