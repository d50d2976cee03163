// One Lambda sandbox: imports a built bundle with its own process.env (set by the parent through the Worker's
// `env` option) and answers the invocations posted to it, which local/runtime.ts sends one at a time.
import { parentPort, workerData } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import process from "node:process";

const { bundlePath, exportName, functionName, memorySize } = workerData;

let handler;
try {
  const mod = await import(pathToFileURL(bundlePath).href);
  handler = mod[exportName];
  if (typeof handler !== "function") throw new Error(`${bundlePath} exports no function ${exportName}`);
  parentPort.postMessage({ type: "ready" });
} catch (error) {
  parentPort.postMessage({ type: "init-error", error: String(error?.stack ?? error) });
}

parentPort.on("message", async ({ id, event, deadline, requestId }) => {
  const context = {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${functionName}`,
    memoryLimitInMB: String(memorySize),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const result = await handler(event, context);
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error?.stack ?? error) });
  }
});
