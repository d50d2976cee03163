// Bench only, never deployed: the token function as it stood before it dropped the AWS SDK (commit 321de89) — the
// same routes, rules, store code and issuer, with DynamoDB through the SDK's document client and
// CreateParticipantToken through the SDK's IVS client, the way a token server is usually written. `npm run bench`
// builds it both ways (template BuildProperties and SAM defaults) beside the real function, so that the cold-init
// figures of the real function can also be read against this fixed yardstick in the same run (docs/performance.md).
// API mode only.
import { CreateParticipantTokenCommand } from "@aws-sdk/client-ivs-realtime";
import { createCognitoAuthenticator } from "#shared/auth/authenticator.ts";
import { createDocumentClient } from "#shared/aws/dynamo.ts";
import { createIvsClient } from "#shared/aws/ivs.ts";
import { loadConfig } from "#shared/config.ts";
import { createHttpHandler } from "#shared/http/handler.ts";
import { documentTable } from "#shared/store/document-table.ts";
import { ivsTokenIssuer } from "../../../functions/token/issuers.ts";
import { routes } from "../../../functions/token/routes.ts";

const config = loadConfig();
const authenticator = createCognitoAuthenticator(config);
const ivs = createIvsClient();

const issuer = ivsTokenIssuer((input, { signal: abortSignal }) =>
  ivs.send(new CreateParticipantTokenCommand(input), { abortSignal }),
);

await authenticator.ready;
const deps = {
  config,
  table: documentTable({ doc: createDocumentClient(), table: config.tableName }),
  issuer,
  now: Date.now,
};

export const handler = createHttpHandler(routes(deps), authenticator);
