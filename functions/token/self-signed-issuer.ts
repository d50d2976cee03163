// TOKEN_MODE=self-signed: tokens signed here with the key from the secret store, read at init and re-read in the
// background every KEY_REFRESH_MS so that a rotation reaches warm containers. No IVS call. If the key cannot be
// read, requests get 503 (and the read is tried again) instead of the container failing its init.
import { createLiteClient, SECRETS_MANAGER } from "#shared/aws/lite/client.ts";
import { getSecretValue } from "#shared/aws/lite/commands/secrets-manager/GetSecretValue.ts";
import { UpstreamUnavailableError } from "#shared/errors.ts";
import { KEY_REFRESH_MS, loadSigningKey } from "#shared/keys/signing-key.ts";
import { logger } from "#shared/logger.ts";
import { signParticipantToken, type SigningKey } from "#shared/token/self-signed.ts";
import type { TokenIssuer, TokenRequest } from "./issuers.ts";

/** After a failed read, the next request tries again no sooner than this. */
const RETRY_AFTER_FAILURE_MS = 5_000;

export async function selfSignedTokenIssuer(secretId: string): Promise<TokenIssuer> {
  const secrets = createLiteClient(SECRETS_MANAGER, { maxAttempts: 3, timeoutMs: 2_500 });
  let key: SigningKey | undefined;
  let loadedAt = 0;
  let failedAt = 0;
  let loading: Promise<void> | undefined;
  const load = () => {
    loading ??= loadSigningKey((id) => getSecretValue(secrets, id), secretId)
      .then(
        (next) => {
          if (key && next.publicKeyArn !== key.publicKeyArn)
            logger.info("signing key rotated", { publicKeyArn: next.publicKeyArn });
          key = next;
          loadedAt = Date.now();
        },
        (error: unknown) => {
          failedAt = Date.now();
          logger.warn("signing key could not be read", { error: (error as Error).message });
        },
      )
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };
  await load();
  async function issue(request: TokenRequest & { participantId?: string }) {
    const now = Date.now();
    if (!key) {
      if (now - failedAt >= RETRY_AFTER_FAILURE_MS) await load();
      if (!key)
        throw new UpstreamUnavailableError(
          "the token signing key is not available",
          Math.ceil(RETRY_AFTER_FAILURE_MS / 1000),
        );
    } else if (now - loadedAt >= KEY_REFRESH_MS && now - failedAt >= RETRY_AFTER_FAILURE_MS) {
      void load();
    }
    return signParticipantToken(key, request, now);
  }
  // No IVS call, so nothing to pace: every request is admitted. A token exchange signs for the same participant
  // id; its stage claims (resource, topic, endpoints) come from the room as for the first token, so they are the same.
  const admission = { issue, release() {} };
  return { admit: () => admission, reissue: issue };
}
