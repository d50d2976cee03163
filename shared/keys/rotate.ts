// Key rotation without downtime: import the new public key into IVS, store the new private key (signing switches
// to it as containers pick it up), and delete an old public key only once no token it signed can still join.
import { generateKeyPairSync } from "node:crypto";
import { DeletePublicKeyCommand, ImportPublicKeyCommand, type IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { PutSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { KEY_REFRESH_MS, readSigningKeySecret, type SigningKeySecret } from "./signing-key.ts";

/** The longest token IVS issues: 20160 minutes (14 days). */
export const LONGEST_TOKEN_MS = 20_160 * 60_000;
/** How long an old public key stays in IVS after rotation. */
export const RETIRE_AFTER_MS = LONGEST_TOKEN_MS + 2 * KEY_REFRESH_MS;

export interface KeyDeps {
  ivs: IVSRealTimeClient;
  secrets: SecretsManagerClient;
  secretId: string;
  now(): number;
}

export async function rotateSigningKey(
  deps: KeyDeps,
  opts: { name?: string } = {},
): Promise<{ publicKeyArn: string; retired: string[] }> {
  const before = await readSigningKeySecret(deps.secrets, deps.secretId);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const imported = await deps.ivs.send(
    new ImportPublicKeyCommand({
      publicKeyMaterial: publicKey.export({ type: "spki", format: "pem" }).toString(),
      name:
        opts.name ??
        `stagepass-${new Date(deps.now())
          .toISOString()
          .replace(/[^0-9]/g, "")
          .slice(0, 14)}`,
    }),
  );
  const publicKeyArn = imported.publicKey!.arn!;
  const now = deps.now();
  const after: SigningKeySecret = {
    current: {
      publicKeyArn,
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      createdAt: new Date(now).toISOString(),
    },
    previous: [
      ...before.previous,
      ...(before.current
        ? [{ publicKeyArn: before.current.publicKeyArn, retireAfter: new Date(now + RETIRE_AFTER_MS).toISOString() }]
        : []),
    ],
  };
  await writeSecret(deps, after);
  const retired = await retireExpiredKeys(deps);
  return { publicKeyArn, retired };
}

/** Deletes from IVS the old public keys whose tokens can no longer be used; returns their ARNs. */
export async function retireExpiredKeys(deps: KeyDeps): Promise<string[]> {
  const secret = await readSigningKeySecret(deps.secrets, deps.secretId);
  const now = deps.now();
  const due = secret.previous.filter((k) => Date.parse(k.retireAfter) <= now);
  if (due.length === 0) return [];
  for (const key of due) await deletePublicKey(deps.ivs, key.publicKeyArn);
  await writeSecret(deps, { ...secret, previous: secret.previous.filter((k) => !due.includes(k)) });
  return due.map((k) => k.publicKeyArn);
}

/** Deletes every public key the secret names (the stack is being deleted) and empties the secret. */
export async function deleteAllSigningKeys(deps: KeyDeps): Promise<string[]> {
  const secret = await readSigningKeySecret(deps.secrets, deps.secretId);
  const arns = [
    ...(secret.current ? [secret.current.publicKeyArn] : []),
    ...secret.previous.map((k) => k.publicKeyArn),
  ];
  for (const arn of arns) await deletePublicKey(deps.ivs, arn);
  await writeSecret(deps, { previous: [] });
  return arns;
}

async function deletePublicKey(ivs: IVSRealTimeClient, arn: string): Promise<void> {
  try {
    await ivs.send(new DeletePublicKeyCommand({ arn }));
  } catch (error) {
    if ((error as { name?: string }).name !== "ResourceNotFoundException") throw error;
  }
}

async function writeSecret(deps: KeyDeps, secret: SigningKeySecret): Promise<void> {
  await deps.secrets.send(new PutSecretValueCommand({ SecretId: deps.secretId, SecretString: JSON.stringify(secret) }));
}
