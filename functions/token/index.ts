// Participant tokens: the request every viewer makes. Only what this path needs is imported and built, once.
import { createCognitoAuthenticator } from "#shared/auth/authenticator.ts";
import { createDocumentClient } from "#shared/aws/dynamo.ts";
import { createIvsClient } from "#shared/aws/ivs.ts";
import { loadConfig } from "#shared/config.ts";
import { createHttpHandler } from "#shared/http/handler.ts";
import { ivsTokenIssuer } from "./issuers.ts";
import { routes } from "./routes.ts";

const config = loadConfig();
const authenticator = createCognitoAuthenticator(config);
const ivs = createIvsClient();
const deps = {
  config,
  db: { doc: createDocumentClient(), table: config.tableName },
  ivs,
  issuer: ivsTokenIssuer(ivs),
  now: Date.now,
};
await authenticator.ready;

export const handler = createHttpHandler(routes(deps), authenticator);
