// Token handler warm cost: one process, the deployed bundle, thousands of sequential requests against the stub;
// the floor (one RS256 verification of the same JWT) measured in that same process right after. Run twice:
//  - in-process: the stub in the same process, reached through in-memory connections (HTTP/1.1 still written and
//    parsed on both sides, no TCP): the handler's own cost, the figure the target is judged on;
//  - loopback: the stub of the cold-init runs in the bench process, over loopback TCP: what a socket adds on this
//    (shared, 2-core) machine.
import type { Bundle } from "./bundles.ts";
import type { WarmInput, WarmResult } from "./children/protocol.ts";
import {
  functionEnvironment,
  ROOM_ID,
  STAGE_ARN,
  stubDataOf,
  TABLE_NAME,
  tokenEvent,
  type Fixtures,
} from "./fixtures.ts";
import { runChild } from "./processes.ts";
import type { AwsStub, StubCounts } from "./stub.ts";

/** Variables read only where a client, verifier, logger or the config is built: never per request. */
export const SENTINEL_ENV = [
  "POWERTOOLS_SERVICE_NAME",
  "POWERTOOLS_LOG_LEVEL",
  "AWS_ENDPOINT_URL_DYNAMODB",
  "AWS_ENDPOINT_URL_IVS_REALTIME",
  "AWS_ENDPOINT_URL_SQS",
  "TABLE_NAME",
  "USER_POOL_ID",
  "USER_POOL_CLIENT_IDS",
  "JWKS_URI",
  "TOKEN_MODE",
];

export interface WarmVariant extends WarmResult {
  /** handler median ÷ RS256 verify median. */
  ratio: number;
  stubCounts: StubCounts;
  /**
   * Nothing observable was built per request: ≤ 2 connections per service over thousands of requests (a client per
   * request opens one per request), JWKS fetches not growing with requests (a verifier per request fetches per
   * request), no reads of the variables only read where clients, verifier, logger and config are built.
   */
  perRequestConstruction: { ok: boolean; evidence: string };
  jwksFetches: number;
}

export interface WarmSection {
  inProcess?: WarmVariant;
  loopback?: WarmVariant;
  errors: string[];
}

export async function measureWarm(opts: {
  bundle: Bundle;
  fx: Fixtures;
  stub: AwsStub;
  requests: number;
  script: string;
  logFd: number;
  progress: (line: string) => void;
  transports?: Array<"memory" | "tcp">;
}): Promise<WarmSection> {
  const { fx, stub } = opts;
  const keys = ["ROOM", `MEMBER#${fx.userId}`, `BAN#${fx.userId}`, `RATE#${fx.userId}#1`].map((sk) => ({
    pk: { S: `ROOM#${ROOM_ID}` },
    sk: { S: sk },
  }));
  const section: WarmSection = { errors: [] };
  for (const transport of opts.transports ?? (["memory", "tcp"] as const)) {
    const input: WarmInput = {
      bundle: { path: opts.bundle.path, exportName: opts.bundle.exportName, format: opts.bundle.format },
      transport,
      // In-process the stub speaks plain http (the in-memory connections carry no TLS); init is not measured here.
      stubData: { ...stubDataOf(fx), tls: undefined },
      event: tokenEvent(fx),
      requests: opts.requests,
      warmup: Math.min(500, Math.ceil(opts.requests / 10)),
      jwt: fx.jwt,
      jwks: fx.identity.jwks,
      userPoolId: fx.identity.userPoolId,
      clientId: fx.identity.clientId,
      batchGetBody: JSON.stringify({ RequestItems: { [TABLE_NAME]: { Keys: keys, ConsistentRead: true } } }),
      tableName: TABLE_NAME,
      roomId: ROOM_ID,
      stageArn: STAGE_ARN,
      userId: fx.userId,
      sentinelEnv: SENTINEL_ENV,
    };
    opts.progress(
      `token warm cost (${transport === "memory" ? "in-process stub" : "stub over loopback TCP"}): ${opts.requests} sequential requests`,
    );
    stub.reset();
    // The deployed log level (INFO), at which a success writes no log line of its own (API Gateway logs every request).
    const env = {
      ...functionEnvironment(fx, stub.urls, "INFO"),
      AWS_LAMBDA_FUNCTION_NAME: "TokenFunction",
      TOKEN_RATE_PER_MINUTE: "1000000",
    };
    try {
      const result = await runChild<WarmResult>(opts.script, input, env, opts.logFd, 600_000);
      const counts = transport === "memory" ? result.stub! : stub.counts();
      const jwksFetches = counts.calls["jwks:GET"] ?? 0;
      // The raw round-trip reference and the SDK references opened connections of their own (after the handler's).
      const dynamoConnections = Math.max(0, counts.connections.dynamodb - (transport === "tcp" ? 2 : 0));
      const ivsConnections = Math.max(0, counts.connections.ivs - (transport === "tcp" ? 1 : 0));
      // A verifier built per request would fetch the JWKS per request; the one-fetch rule is judged on its own.
      const ok =
        dynamoConnections <= 2 &&
        ivsConnections <= 2 &&
        jwksFetches <= 2 &&
        Object.keys(result.sentinelReads).length === 0;
      const evidence =
        `${opts.requests + input.warmup} requests: ${dynamoConnections} DynamoDB and ${ivsConnections} IVS connection(s), ` +
        `${jwksFetches} JWKS fetch(es), reads of construction-time env vars: ${Object.keys(result.sentinelReads).length ? JSON.stringify(result.sentinelReads) : "none"}`;
      const variant: WarmVariant = {
        ...result,
        ratio: result.handler.medianUs / result.rs256Verify.medianUs,
        stubCounts: counts,
        perRequestConstruction: { ok, evidence },
        jwksFetches,
      };
      if (transport === "memory") section.inProcess = variant;
      else section.loopback = variant;
    } catch (error) {
      section.errors.push(`${transport}: ${(error as Error).message}`);
    }
  }
  return section;
}
