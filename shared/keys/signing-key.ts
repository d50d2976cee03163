// The signing-key secret: the current P-384 private key with its imported public key's ARN, and the keys it
// replaced, kept until no token they signed can still be used.
import { createPrivateKey } from "node:crypto";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SigningKey } from "../token/self-signed.ts";

export interface SigningKeySecret {
  current?: { publicKeyArn: string; privateKeyPem: string; createdAt: string };
  /** Public keys no longer signing, deleted from IVS once `retireAfter` has passed. */
  previous: Array<{ publicKeyArn: string; retireAfter: string }>;
}

export class SigningKeyUnavailableError extends Error {}

/** How often a warm container re-reads the secret (functions/token); an old key may sign this much longer. */
export const KEY_REFRESH_MS = 15 * 60_000;

export function parseSigningKeySecret(text: string | undefined): SigningKeySecret {
  if (!text) return { previous: [] };
  const value = JSON.parse(text) as Partial<SigningKeySecret>;
  return {
    ...(value.current ? { current: value.current } : {}),
    previous: Array.isArray(value.previous) ? value.previous : [],
  };
}

export async function readSigningKeySecret(client: SecretsManagerClient, secretId: string): Promise<SigningKeySecret> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  return parseSigningKeySecret(out.SecretString);
}

/** The key to sign with, from the secret's text as `readSecret` gets it. Never logged: only its public key's ARN may appear in logs. */
export async function loadSigningKey(
  readSecret: (secretId: string) => Promise<string | undefined>,
  secretId: string,
): Promise<SigningKey> {
  const secret = parseSigningKeySecret(await readSecret(secretId));
  if (!secret.current)
    throw new SigningKeyUnavailableError(`secret ${secretId} holds no signing key yet; run npm run keys -- rotate`);
  const privateKey = createPrivateKey(secret.current.privateKeyPem);
  if (privateKey.asymmetricKeyType !== "ec" || privateKey.asymmetricKeyDetails?.namedCurve !== "secp384r1") {
    throw new SigningKeyUnavailableError("the signing key must be an EC P-384 private key");
  }
  return { publicKeyArn: secret.current.publicKeyArn, privateKey };
}
