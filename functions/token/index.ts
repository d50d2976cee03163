// Participant tokens: the request every viewer makes. Only what this path needs is imported and built, once; AWS is
// called through the lite client (shared/aws/lite), not the SDK: see docs/performance.md.
import { createCognitoAuthenticator } from "#shared/auth/authenticator.ts";
import { CALL_TIMEOUT_MS } from "#shared/aws/ivs-call.ts";
import { createLiteClient, DYNAMODB, IVS_REALTIME } from "#shared/aws/lite/client.ts";
import { createParticipantToken } from "#shared/aws/lite/commands/ivs-realtime/CreateParticipantToken.ts";
import { liteTable } from "#shared/aws/lite/dynamo-table.ts";
import { ConfigError, loadConfig, type Config } from "#shared/config.ts";
import { createHttpHandler } from "#shared/http/handler.ts";
import { emfWriter, recordDynamoDbLatency, useMetricsPublisher } from "#shared/metrics.ts";
import { ivsTokenIssuer, type TokenIssuer } from "./issuers.ts";
import { routes } from "./routes.ts";
import { selfSignedTokenIssuer } from "./self-signed-issuer.ts";

// This path's metrics written by our own EMF writer rather than Powertools': the same documents, for a tenth of the
// time, and written once the response is on its way (shared/metrics.ts, docs/performance.md).
useMetricsPublisher(emfWriter({ defer: true }));
const config = loadConfig();
const authenticator = createCognitoAuthenticator(config);

async function createIssuer(config: Config): Promise<TokenIssuer> {
  // One attempt per call: the issuer's own loop retries within the request's time and the container's budget for
  // CreateParticipantToken (shared/aws/call-budget.ts), as for the SDK's IVS client.
  if (config.tokenMode === "api") {
    const ivs = createLiteClient(IVS_REALTIME, { maxAttempts: 1, timeoutMs: CALL_TIMEOUT_MS });
    await ivs.preconnect();
    return ivsTokenIssuer((input, attempt) => createParticipantToken(ivs, input, { timeoutMs: attempt.timeoutMs }));
  }
  if (!config.signingKeySecretId) throw new ConfigError("TOKEN_MODE=self-signed needs SIGNING_KEY_SECRET_ID");
  return selfSignedTokenIssuer(config.signingKeySecretId);
}

// The SDK's settings in shared/aws/dynamo.ts: 3 attempts, 2.5 s each; each call timed (DynamoDbLatency).
const dynamodb = createLiteClient(DYNAMODB, { maxAttempts: 3, timeoutMs: 2_500, onCall: recordDynamoDbLatency });
// During init, side by side: the JWKS fetch and the connections (TCP and TLS) to DynamoDB and IVS, so that a
// container's first request makes none of them.
const [issuer] = await Promise.all([createIssuer(config), authenticator.ready, dynamodb.preconnect()]);
const deps = { config, table: liteTable(dynamodb, config.tableName), issuer, now: Date.now };

export const handler = createHttpHandler(routes(deps), authenticator);
