// The token handler's warm cost, in one process: import once, then thousands of sequential invocations against the
// HTTP stub, each timed; then, in the same process, the floor (one RS256 verification of the same JWT) and reference
// figures for the breakdown (the JWT library's verify, a raw HTTP round trip, the SDK calls, a log line).
import { createPublicKey, verify } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateParticipantTokenCommand, IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { BatchGetCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { startAwsStub, type AwsStub } from "../stub.ts";
import { lambdaContext, loadHandler, summarise } from "./load-bundle.ts";
import { routeStubInMemory } from "./memory-transport.ts";
import type { Distribution, WarmInput, WarmResult } from "./protocol.ts";

const input = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as WarmInput;

let stub: AwsStub | undefined;
if (input.transport === "memory") {
  stub = await startAwsStub(input.stubData);
  routeStubInMemory(stub);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = stub.urls.dynamodb;
  process.env.AWS_ENDPOINT_URL_IVS_REALTIME = stub.urls.ivs;
  process.env.AWS_ENDPOINT_URL_SQS = stub.urls.sqs;
  process.env.JWKS_URI = stub.urls.jwks;
}

// Count environment reads by phase: a client, verifier or logger built per request reads its configuration again.
let phase: "init" | "measured" | "off" = "init";
const measuredReads = new Map<string, number>();
const realEnv = process.env;
const countRead = (key: string | symbol) => {
  if (phase === "measured" && typeof key === "string") measuredReads.set(key, (measuredReads.get(key) ?? 0) + 1);
};
process.env = new Proxy(realEnv, {
  get(target, key) {
    countRead(key);
    return Reflect.get(target, key);
  },
  has(target, key) {
    countRead(key);
    return Reflect.has(target, key);
  },
});

const distribution = (samplesNs: bigint[]): Distribution => {
  const us = samplesNs.map((s) => Number(s) / 1000).sort((a, b) => a - b);
  const at = (q: number) => us[Math.min(us.length - 1, Math.max(0, Math.ceil(q * us.length) - 1))]!;
  return {
    n: us.length,
    medianUs: at(0.5),
    p99Us: at(0.99),
    meanUs: us.reduce((a, b) => a + b, 0) / us.length,
    minUs: us[0]!,
  };
};

async function timeEach(count: number, fn: () => unknown): Promise<bigint[]> {
  const samples: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples[i] = process.hrtime.bigint() - t0;
  }
  return samples;
}

const t0 = performance.now();
const handler = await loadHandler(input.bundle);
const initMs = performance.now() - t0;
const context = lambdaContext("TokenFunction", 10_000);
// Each invocation gets its own remaining time, as in Lambda.
const ctx = () => ({ ...context, getRemainingTimeInMillis: () => 10_000 });

let failures = 0;
let firstFailure: string | undefined;
const invoke = async () => {
  const s = summarise(await handler(input.event, ctx()));
  if (s.status !== 200) {
    failures++;
    firstFailure ??= `${s.status} ${s.detail ?? ""}`;
  }
};
// The floor: the one cryptographic operation every token request must do.
const [header, payload, signature] = input.jwt.split(".") as [string, string, string];
const signingInput = Buffer.from(`${header}.${payload}`);
const sig = Buffer.from(signature, "base64url");
const publicKey = createPublicKey({ key: input.jwks.keys[0] as any, format: "jwk" });
const rsVerify = () => {
  if (!verify("RSA-SHA256", signingInput, publicKey, sig)) throw new Error("the bench JWT does not verify");
};

await timeEach(input.warmup, invoke);
await timeEach(500, rsVerify);
// Handler requests and floor verifications in alternating blocks, so that both meet the same machine (this one
// is shared): a load spike during the run moves both figures, not just one side of the ratio.
const BLOCK = 250;
const handlerSamples: bigint[] = [];
const rsSamples: bigint[] = [];
// In-process, the time the stub spent inside each request (its HTTP layer and answers: AWS's side) is taken out of
// that request's figure; the request's whole wall time is kept too.
const stubSamples: bigint[] = [];
const wallSamples: bigint[] = [];
const invokeSplit = async () => {
  const before = stub?.stubTimeNs() ?? 0n;
  const t0 = process.hrtime.bigint();
  await invoke();
  const wall = process.hrtime.bigint() - t0;
  const inStub = (stub?.stubTimeNs() ?? 0n) - before;
  wallSamples.push(wall);
  stubSamples.push(inStub);
  return wall - inStub;
};
const timeSplit = async (count: number) => {
  const samples: bigint[] = [];
  for (let i = 0; i < count; i++) samples.push(await invokeSplit());
  return samples;
};
while (handlerSamples.length < input.requests) {
  const n = Math.min(BLOCK, input.requests - handlerSamples.length);
  phase = "measured";
  handlerSamples.push(...(await timeSplit(n)));
  phase = "off";
  rsSamples.push(...(await timeEach(n, rsVerify)));
}
const stubCounts = stub?.counts();
const reference = Math.min(input.requests, 3000);

const verifier = CognitoJwtVerifier.create({ userPoolId: input.userPoolId, tokenUse: "id", clientId: input.clientId });
verifier.cacheJwks(input.jwks as any);
await timeEach(500, () => verifier.verify(input.jwt));
const libSamples = await timeEach(reference, () => verifier.verify(input.jwt));

const target = new URL(realEnv.AWS_ENDPOINT_URL_DYNAMODB!);
const web = target.protocol === "https:" ? https : http;
const agent = new web.Agent({ keepAlive: true, maxSockets: 1 });
const roundTrip = () =>
  new Promise<void>((resolve, reject) => {
    const req = web.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: "POST",
        path: "/",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.BatchGetItem",
          "content-length": Buffer.byteLength(input.batchGetBody),
        },
      },
      (res) => {
        res.on("data", () => undefined);
        res.on("end", () => resolve());
      },
    );
    req.on("error", reject);
    req.end(input.batchGetBody);
  });
await timeEach(200, roundTrip);
const rttSamples = await timeEach(reference, roundTrip);
agent.destroy();

// The SDK calls the token path makes, configured as shared/aws builds them.
const doc = DynamoDBDocumentClient.from(
  new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_500 } }),
  { marshallOptions: { removeUndefinedValues: true } },
);
const keys = ["ROOM", `MEMBER#${input.userId}`, `BAN#${input.userId}`, `RATE#${input.userId}#1`].map((sk) => ({
  pk: `ROOM#${input.roomId}`,
  sk,
}));
const batchGet = () =>
  doc.send(new BatchGetCommand({ RequestItems: { [input.tableName]: { Keys: keys, ConsistentRead: true } } }));
await timeEach(200, batchGet);
const sdkBatchGetSamples = await timeEach(reference, batchGet);
const ivs = new IVSRealTimeClient({
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
});
const createToken = () =>
  ivs.send(
    new CreateParticipantTokenCommand({
      stageArn: input.stageArn,
      userId: input.userId,
      capabilities: ["SUBSCRIBE"],
      duration: 60,
      attributes: { role: "viewer", displayName: "Bench" },
    }),
  );
await timeEach(200, createToken);
const sdkTokenSamples = await timeEach(reference, createToken);
const logger = new Logger({ serviceName: "stagepass-bench" });
const logLine = () =>
  logger.info("request", { routeKey: "POST /rooms/{roomId}/token", status: 200, ms: 1, requestId: "bench-request" });
await timeEach(200, logLine);
const logSamples = await timeEach(reference, logLine);

const perRequest = Object.fromEntries(
  [...measuredReads].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number((v / input.requests).toFixed(3))]),
);
const result: WarmResult = {
  transport: input.transport,
  initMs,
  handler: distribution(handlerSamples),
  ...(stub ? { handlerWithStub: distribution(wallSamples), stubShare: distribution(stubSamples) } : {}),
  failures,
  ...(firstFailure ? { firstFailure } : {}),
  rs256Verify: distribution(rsSamples),
  jwtLibraryVerify: distribution(libSamples),
  httpRoundTrip: distribution(rttSamples),
  sdkBatchGet: distribution(sdkBatchGetSamples),
  sdkCreateParticipantToken: distribution(sdkTokenSamples),
  powertoolsLogLine: distribution(logSamples),
  envReadsPerRequest: perRequest,
  sentinelReads: Object.fromEntries(
    input.sentinelEnv.filter((k) => measuredReads.has(k)).map((k) => [k, measuredReads.get(k)!]),
  ),
  ...(stubCounts ? { stub: stubCounts } : {}),
};
writeFileSync(process.argv[3]!, JSON.stringify(result));
process.exit(0);
