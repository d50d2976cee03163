// DynamoDB's failures as problem errors (429 when throttled, 503 otherwise) and the reasons of a cancelled
// transaction: shared by the SDK's document client and the token function's lite client, whose errors look alike.
import { RateLimitedError, UpstreamUnavailableError } from "../errors.ts";

const THROTTLES = new Set(["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]);

/** Errors a store method does not handle itself become 429 (throttled) or 503 (anything else). */
export function mapDynamoError(error: unknown): never {
  const name = (error as { name?: string }).name ?? "";
  if (THROTTLES.has(name)) throw new RateLimitedError("the database is throttling requests", 1, { cause: error });
  throw new UpstreamUnavailableError("the database did not answer", 2, { cause: error });
}

export async function dynamo<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    return mapDynamoError(error);
  }
}

/** Which item of a TransactWriteItems call failed its condition, by index; undefined when none did. */
export function cancellationReasons(error: unknown): Array<string | undefined> | undefined {
  if ((error as { name?: string }).name !== "TransactionCanceledException") return undefined;
  const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
  if (reasons) return reasons.map((r) => (r.Code && r.Code !== "None" ? r.Code : undefined));
  // Some clients only carry the reasons in the message: "...[ConditionalCheckFailed, None]".
  const match = /\[([^\]]*)\]/.exec((error as Error).message ?? "");
  return match ? match[1]!.split(",").map((s) => (s.trim() === "None" ? undefined : s.trim())) : [];
}
