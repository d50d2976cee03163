// What the parent passes to a child process (a JSON file named by argv[2]) and what the child writes back (a JSON
// file named by argv[3]). Children are compiled to plain .mjs before they run: no TypeScript loader in the process
// being measured.
import type { StubCounts, StubData } from "../stub.ts";

export interface ChildBundle {
  path: string;
  exportName: string;
  format: "esm" | "cjs";
}

export interface ColdInput {
  bundle: ChildBundle;
  event: unknown;
}

export interface InvocationSummary {
  /** HTTP status for API handlers; for the SQS worker, 200 when no batch item failed. */
  status: number;
  /** The problem type or an error, when the invocation did not succeed (never a token). */
  detail?: string;
}

export interface ColdResult {
  /** ms from process start to the first line of the runner (Node's own bootstrap; the same for every bundle). */
  bootMs: number;
  importMs: number;
  firstInvokeMs: number;
  /** Epoch ms at which the import resolved (compared with the stub's JWKS time). */
  importEndEpoch: number;
  invocation: InvocationSummary;
}

export interface WarmInput {
  bundle: ChildBundle;
  /**
   * memory: the stub runs in this process and the handler's connections reach it through in-memory duplex pairs
   * (HTTP written and parsed, no TCP; the stub's share timed and taken out); tcp: the parent's stub over loopback
   * TCP, as in the cold-init runs.
   */
  transport: "memory" | "tcp";
  /** For the memory transport: what the in-process stub answers with. */
  stubData: StubData;
  event: unknown;
  requests: number;
  warmup: number;
  jwt: string;
  jwks: { keys: Array<Record<string, unknown>> };
  userPoolId: string;
  clientId: string;
  /** A BatchGetItem body like the token path's, for the raw HTTP round-trip figure. */
  batchGetBody: string;
  tableName: string;
  roomId: string;
  stageArn: string;
  userId: string;
  /** Environment variables whose reads during the measured requests would mean something is built per request. */
  sentinelEnv: string[];
}

export interface Distribution {
  n: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  minUs: number;
}

export interface WarmResult {
  transport: "memory" | "tcp";
  initMs: number;
  /**
   * The handler's own time per request: in-process, each request's wall time less the time spent inside the stub
   * during it (stubShare); over TCP, the wall time (the stub runs in another process).
   */
  handler: Distribution;
  /** In-process: each request's whole wall time, the stub's share included. */
  handlerWithStub?: Distribution;
  /** In-process: the stub's share of each request (its HTTP layer and answers). */
  stubShare?: Distribution;
  failures: number;
  firstFailure?: string;
  /** One RS256 verification (crypto.verify) of the same JWT: the floor. */
  rs256Verify: Distribution;
  /** aws-jwt-verify's CognitoJwtVerifier.verify of the same JWT with the JWKS cached (signature + claims). */
  jwtLibraryVerify: Distribution;
  /** One raw keep-alive HTTP POST of a BatchGetItem body to the DynamoDB stub and its answer (no SDK). */
  httpRoundTrip: Distribution;
  /** The same read through the AWS SDK (DynamoDB document client BatchGet, 4 keys). */
  sdkBatchGet: Distribution;
  /** One IVS CreateParticipantToken through the AWS SDK. */
  sdkCreateParticipantToken: Distribution;
  /** One Powertools logger.info line like the handler's access-log line. */
  powertoolsLogLine: Distribution;
  /** What the in-process stub saw (memory transport only). */
  stub?: StubCounts;
  /** Environment variable reads per measured request, by name (only names read at least once). */
  envReadsPerRequest: Record<string, number>;
  /** Sentinel variables read during the measured requests (should be none). */
  sentinelReads: Record<string, number>;
}
