// One fresh "container": import the bundle, invoke it once, report how long each took. Run once per process.
import { readFileSync, writeFileSync } from "node:fs";
import { lambdaContext, loadHandler, summarise } from "./load-bundle.ts";
import type { ColdInput, ColdResult } from "./protocol.ts";

const bootMs = performance.now();
const input = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as ColdInput;
const t0 = performance.now();
const handler = await loadHandler(input.bundle);
const t1 = performance.now();
let invocation: ColdResult["invocation"];
try {
  invocation = summarise(await handler(input.event, lambdaContext(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "bench")));
} catch (error) {
  invocation = { status: 0, detail: `threw ${(error as Error).name}: ${(error as Error).message}` };
}
const t2 = performance.now();
const result: ColdResult = {
  bootMs,
  importMs: t1 - t0,
  firstInvokeMs: t2 - t1,
  importEndEpoch: performance.timeOrigin + t1,
  invocation,
};
writeFileSync(process.argv[3]!, JSON.stringify(result));
// The SDK's keep-alive sockets would hold the process open; a Lambda sandbox is frozen here instead.
process.exit(0);
