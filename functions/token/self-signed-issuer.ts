// TOKEN_MODE=self-signed: tokens signed here with the key from the secret store, read once at init and re-read
// in the background every KEY_REFRESH_MS so that a rotation reaches warm containers. No IVS call.
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { KEY_REFRESH_MS } from "#shared/keys/rotate.ts";
import { loadSigningKey } from "#shared/keys/signing-key.ts";
import { logger } from "#shared/logger.ts";
import { signParticipantToken, type SigningKey } from "#shared/token/self-signed.ts";
import type { TokenIssuer } from "./issuers.ts";

export async function selfSignedTokenIssuer(secrets: SecretsManagerClient, secretId: string): Promise<TokenIssuer> {
  let key: SigningKey = await loadSigningKey(secrets, secretId);
  let loadedAt = Date.now();
  let refreshing = false;
  const refresh = () => {
    if (refreshing || Date.now() - loadedAt < KEY_REFRESH_MS) return;
    refreshing = true;
    loadSigningKey(secrets, secretId).then(
      (next) => {
        if (next.publicKeyArn !== key.publicKeyArn) logger.info("signing key rotated", { publicKeyArn: next.publicKeyArn });
        key = next;
        loadedAt = Date.now();
      },
      (error: unknown) => logger.warn("signing key refresh failed; still signing with the previous key", { error: (error as Error).message }),
    ).finally(() => { refreshing = false; });
  };
  return {
    async issue(request) {
      refresh();
      return signParticipantToken(key, request, Date.now());
    },
  };
}
