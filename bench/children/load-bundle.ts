// Loads a handler bundle the way the Lambda Node.js runtime does: import() for ES modules, require() for CommonJS.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { ChildBundle, InvocationSummary } from "./protocol.ts";

export type Handler = (event: unknown, context: unknown) => Promise<any>;

export async function loadHandler(bundle: ChildBundle): Promise<Handler> {
  const mod =
    bundle.format === "esm"
      ? await import(pathToFileURL(bundle.path).href)
      : createRequire(import.meta.url)(bundle.path);
  const handler = mod[bundle.exportName];
  if (typeof handler !== "function") throw new Error(`${bundle.path} exports no function ${bundle.exportName}`);
  return handler as Handler;
}

export function lambdaContext(functionName: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: "bench-request",
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "bench",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
}

/** Success or failure of one invocation, without ever carrying a token. */
export function summarise(result: any): InvocationSummary {
  if (result && typeof result === "object" && "statusCode" in result) {
    const status = Number(result.statusCode);
    if (status >= 200 && status < 300) return { status };
    let detail = "";
    try {
      detail = String(JSON.parse(String(result.body)).type ?? "");
    } catch {
      detail = String(result.body ?? "").slice(0, 120);
    }
    return { status, detail };
  }
  if (result && typeof result === "object" && Array.isArray(result.batchItemFailures)) {
    return result.batchItemFailures.length === 0
      ? { status: 200 }
      : { status: 500, detail: `${result.batchItemFailures.length} batch item failures` };
  }
  // An asynchronous invocation (an EventBridge event) succeeds by resolving; what it returns goes nowhere.
  if (result === undefined) return { status: 200 };
  return { status: 0, detail: `unexpected result ${typeof result}` };
}
