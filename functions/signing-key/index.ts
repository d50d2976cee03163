// CloudFormation custom resource (Custom::SigningKey): on Create, makes the first signing key (key pair, public
// key imported into IVS, private key stored in the secret); on Delete, deletes every public key the secret names.
// Later rotations are `npm run keys -- rotate`.
import type { CloudFormationCustomResourceEvent, Context } from "aws-lambda";
import { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { deleteAllSigningKeys, rotateSigningKey, type KeyDeps } from "#shared/keys/rotate.ts";
import { readSigningKeySecret } from "#shared/keys/signing-key.ts";
import { logger } from "#shared/logger.ts";

const ivs = new IVSRealTimeClient({});
const secrets = new SecretsManagerClient({});

export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<void> {
  // The secret comes from the function's environment (what its IAM grant names), not from the event.
  const secretId = process.env.SIGNING_KEY_SECRET_ID ?? "";
  const deps: KeyDeps = { ivs, secrets, secretId, now: Date.now };
  let status: "SUCCESS" | "FAILED" = "SUCCESS";
  let reason = "";
  let data: Record<string, string> = {};
  try {
    if (event.RequestType === "Create") {
      const existing = await readSigningKeySecret(secrets, secretId).catch(() => ({ current: undefined }));
      data = { PublicKeyArn: existing.current?.publicKeyArn ?? (await rotateSigningKey(deps)).publicKeyArn };
    } else if (event.RequestType === "Delete") {
      await deleteAllSigningKeys(deps).catch((error: unknown) =>
        logger.warn("public keys not deleted", { error: error as Error }),
      );
    } else {
      const current = await readSigningKeySecret(secrets, secretId);
      data = { PublicKeyArn: current.current?.publicKeyArn ?? "" };
    }
  } catch (error) {
    status = "FAILED";
    reason = (error as Error).message;
    logger.error("signing key custom resource failed", { error: error as Error });
  }
  await respond(event, context, status, reason, data);
}

async function respond(
  event: CloudFormationCustomResourceEvent,
  context: Context,
  status: string,
  reason: string,
  data: Record<string, string>,
) {
  const body = JSON.stringify({
    Status: status,
    Reason: reason || `see ${context.logStreamName}`,
    PhysicalResourceId:
      "PhysicalResourceId" in event ? event.PhysicalResourceId : `signing-key-${event.LogicalResourceId}`,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: data,
  });
  // The response URL is a presigned S3 URL: a PUT with no content type (a byte body gets none from fetch).
  const response = await fetch(event.ResponseURL, {
    method: "PUT",
    body: Buffer.from(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`CloudFormation's response URL answered ${response.status}`);
}
