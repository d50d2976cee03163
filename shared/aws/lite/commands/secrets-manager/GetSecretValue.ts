import type { LiteClient } from "../../client.ts";

/** Secrets Manager GetSecretValue (awsJson 1.1); the secret's text, if it has one. */
export async function getSecretValue(client: LiteClient, secretId: string): Promise<string | undefined> {
  const out = (await client.json("secretsmanager.GetSecretValue", "application/x-amz-json-1.1", {
    SecretId: secretId,
  })) as { SecretString?: string };
  return out.SecretString;
}
