// What an API function builds once per container: configuration, the JWT verifier (its JWKS fetched during init),
// one client per AWS service, and its metrics' publisher (Powertools). The token function builds its own, narrower
// set (functions/token/index.ts).
import { createCognitoAuthenticator, type Authenticator } from "./auth/authenticator.ts";
import { createDocumentClient } from "./aws/dynamo.ts";
import { createIvsClient } from "./aws/ivs.ts";
import { createSqsClient } from "./aws/sqs.ts";
import { loadConfig } from "./config.ts";
import { useMetricsPublisher } from "./metrics.ts";
import { powertoolsPublisher } from "./metrics-powertools.ts";
import type { DepsWithQueue } from "./deps.ts";
import { webhookSinkFor } from "./webhooks/wiring.ts";

export async function initContainer(): Promise<{ deps: DepsWithQueue; authenticator: Authenticator }> {
  useMetricsPublisher(powertoolsPublisher());
  const config = loadConfig();
  const authenticator = createCognitoAuthenticator(config);
  const db = { doc: createDocumentClient(), table: config.tableName };
  const deps: DepsWithQueue = {
    config,
    db,
    ivs: createIvsClient(),
    sqs: createSqsClient(),
    now: Date.now,
    webhooks: webhookSinkFor(config.webhookQueueUrl, db),
  };
  await authenticator.ready;
  return { deps, authenticator };
}
