// `npm run keys -- <rotate|retire|status> --secret-id <id>`: manage the P-384 key that signs participant tokens in
// TOKEN_MODE=self-signed. Uses the default AWS credentials and region (AWS_ENDPOINT_URL_IVS_REALTIME and
// AWS_ENDPOINT_URL_SECRETS_MANAGER point it at the offline stack). Never prints the private key.
import { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { deleteAllSigningKeys, retireExpiredKeys, rotateSigningKey, type KeyDeps } from "../shared/keys/rotate.ts";
import { readSigningKeySecret } from "../shared/keys/signing-key.ts";

const [command, ...args] = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const secretId = flag("secret-id") ?? process.env.SIGNING_KEY_SECRET_ID;
const usage = `usage: npm run keys -- <rotate|retire|status|delete-all> --secret-id <secret name or ARN> [--region <region>]

  rotate      create a P-384 key pair, import its public key into IVS, store it as the signing key, and
              delete old public keys whose tokens can no longer be used
  retire      only the last step: delete old public keys that are past their retirement time
  status      show which public keys the secret names (never the private key)
  delete-all  delete every public key the secret names from IVS and empty the secret`;

if (!command || !secretId || !["rotate", "retire", "status", "delete-all"].includes(command)) {
  console.error(usage);
  process.exit(2);
}
const region = flag("region") ?? process.env.AWS_REGION;
const deps: KeyDeps = {
  ivs: new IVSRealTimeClient(region ? { region } : {}),
  secrets: new SecretsManagerClient(region ? { region } : {}),
  secretId,
  now: Date.now,
};
try {
  if (command === "rotate") {
    const out = await rotateSigningKey(deps);
    console.log(`signing with ${out.publicKeyArn}`);
    for (const arn of out.retired) console.log(`deleted old public key ${arn}`);
  } else if (command === "retire") {
    const retired = await retireExpiredKeys(deps);
    console.log(
      retired.length ? retired.map((a) => `deleted old public key ${a}`).join("\n") : "nothing to retire yet",
    );
  } else if (command === "delete-all") {
    for (const arn of await deleteAllSigningKeys(deps)) console.log(`deleted public key ${arn}`);
  } else {
    const secret = await readSigningKeySecret(deps.secrets, secretId);
    console.log(
      JSON.stringify(
        {
          current: secret.current
            ? { publicKeyArn: secret.current.publicKeyArn, createdAt: secret.current.createdAt }
            : null,
          previous: secret.previous,
        },
        null,
        2,
      ),
    );
  }
} catch (error) {
  console.error(`keys ${command} failed: ${(error as Error).message}`);
  process.exit(1);
}
