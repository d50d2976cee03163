// Participant tokens: the request every viewer makes. Only what this path needs is imported and built, once.
import { createCognitoAuthenticator } from "#shared/auth/authenticator.ts";
import { createDocumentClient } from "#shared/aws/dynamo.ts";
import { createIvsClient } from "#shared/aws/ivs.ts";
import { ConfigError, loadConfig, type Config } from "#shared/config.ts";
import { createHttpHandler } from "#shared/http/handler.ts";
import { ivsTokenIssuer, type TokenIssuer } from "./issuers.ts";
import { routes } from "./routes.ts";
import { selfSignedTokenIssuer } from "./self-signed-issuer.ts";

const config = loadConfig();
const authenticator = createCognitoAuthenticator(config);

async function createIssuer(config: Config): Promise<TokenIssuer> {
  if (config.tokenMode === "api") return ivsTokenIssuer(createIvsClient());
  if (!config.signingKeySecretId) throw new ConfigError("TOKEN_MODE=self-signed needs SIGNING_KEY_SECRET_ID");
  return selfSignedTokenIssuer(config.signingKeySecretId);
}

const [issuer] = await Promise.all([createIssuer(config), authenticator.ready]);
const deps = {
  config,
  db: { doc: createDocumentClient(), table: config.tableName },
  issuer,
  now: Date.now,
};

export const handler = createHttpHandler(routes(deps), authenticator);
