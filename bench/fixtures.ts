// What the bench feeds the handlers: one identity (RS256 keys + JWKS), one room as stored in the table, real API
// Gateway HTTP API payload 2.0 events, and the environment a function gets in AWS (endpoints pointed at the stub).
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, SQSEvent } from "aws-lambda";
import { createLocalIdentity, type LocalIdentity } from "../local/identity.ts";
import { defaultPolicy } from "../shared/rooms/policy.ts";
import type { RoomRecord } from "../shared/rooms/room.ts";
import { LIVE_SK, ROOM_SK, roomPk } from "../shared/store/keys.ts";
import type { StubData } from "./stub.ts";
import type { StubTls } from "./tls.ts";

export const REGION = "us-east-1";
export const ACCOUNT_ID = "123456789012";
export const TABLE_NAME = "stagepass-bench";
export const ROOM_ID = "BenchRoom001";
export const STAGE_ARN = `arn:aws:ivs:${REGION}:${ACCOUNT_ID}:stage/${ROOM_ID}`;

export interface Fixtures {
  identity: LocalIdentity;
  /** The room owner (a moderator of the room): every event is sent as this user. */
  jwt: string;
  userId: string;
  room: RoomRecord;
  /** The room as DynamoDB stores it (pk/sk/gsi1 plus the record). */
  roomItem: Record<string, unknown>;
  /**
   * The room's live counts (shared/store/live.ts), read by the token path beside the room: a stage with room for the
   * caller, so that every token request runs the capacity rules to the end and gets its token.
   */
  liveItem: Record<string, unknown>;
  /** Certificate the stub serves the JWKS with (https, as Cognito), trusted by the children. */
  tls: StubTls | undefined;
}

export function createFixtures(tls?: StubTls): Fixtures {
  const identity = createLocalIdentity({ region: REGION });
  const login = identity.login({ username: "bench-owner", preferredUsername: "Bench" });
  const now = new Date().toISOString();
  const room: RoomRecord = {
    roomId: ROOM_ID,
    stageArn: STAGE_ARN,
    name: "bench",
    ownerId: login.sub,
    createdAt: now,
    updatedAt: now,
    policy: defaultPolicy(),
    tags: {},
    endpoints: { events: "wss://global.events.live-video.net", whip: "https://global.whip.live-video.net" },
    version: 1,
  };
  return {
    identity,
    jwt: login.idToken,
    userId: login.sub,
    room,
    roomItem: { pk: roomPk(ROOM_ID), sk: ROOM_SK, gsi1pk: "ROOMS", gsi1sk: ROOM_ID, ...room },
    // Evidence from a day ahead: trusted for the whole run (counts older than 10 minutes are not used).
    liveItem: {
      pk: roomPk(ROOM_ID),
      sk: LIVE_SK,
      connected: 5,
      publishing: 2,
      evidenceAt: Date.now() + 86_400_000,
      live: true,
      sessionId: "st-BenchSession1",
      version: 1,
    },
    tls,
  };
}

export const stubDataOf = (fx: Fixtures): StubData => ({
  roomItem: fx.roomItem,
  liveItem: fx.liveItem,
  stage: { arn: fx.room.stageArn, name: fx.room.name, endpoints: fx.room.endpoints },
  jwks: fx.identity.jwks,
  userPoolId: fx.identity.userPoolId,
  tls: fx.tls && { key: fx.tls.key, cert: fx.tls.cert },
});

/** The environment of a deployed function (template Globals), with every AWS endpoint at the stub. */
export function functionEnvironment(
  fx: Fixtures,
  stub: { dynamodb: string; ivs: string; sqs: string; jwks: string },
  logLevel = "INFO",
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LANG: "C.UTF-8",
    TZ: "UTC",
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: "AKIABENCHBENCHBENCH0",
    AWS_SECRET_ACCESS_KEY: "bench/bench/bench/bench/bench/bench/bench0",
    AWS_SESSION_TOKEN: "bench-session-token",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_DYNAMODB: stub.dynamodb,
    AWS_ENDPOINT_URL_IVS_REALTIME: stub.ivs,
    AWS_ENDPOINT_URL_SQS: stub.sqs,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
    POWERTOOLS_SERVICE_NAME: "stagepass",
    POWERTOOLS_LOG_LEVEL: logLevel,
    TABLE_NAME,
    USER_POOL_ID: fx.identity.userPoolId,
    USER_POOL_CLIENT_IDS: fx.identity.clientId,
    JWKS_URI: stub.jwks,
    TOKEN_USE: "id",
    ADMIN_GROUP: "admin",
    ROOM_CREATOR_GROUPS: "",
    TOKEN_RATE_PER_MINUTE: "10",
    TOKEN_MODE: "api",
    DISCONNECT_QUEUE_URL: `${stub.sqs}/${ACCOUNT_ID}/DisconnectQueue`,
    ...(fx.tls ? { NODE_EXTRA_CA_CERTS: fx.tls.certPath } : {}),
  };
}

/** A payload 2.0 event as API Gateway HTTP API sends it. */
export function httpEvent(
  method: string,
  path: string,
  routePath: string,
  opts: { jwt?: string; body?: unknown; pathParameters?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const routeKey = `${method} ${routePath}`;
  const headers: Record<string, string> = {
    accept: "application/json",
    host: "abcdef1234.execute-api.us-east-1.amazonaws.com",
    "user-agent": "stagepass-bench",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-proto": "https",
  };
  if (opts.jwt) headers.authorization = `Bearer ${opts.jwt}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const now = Date.now();
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: "",
    headers,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: "abcdef1234",
      domainName: "abcdef1234.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "abcdef1234",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "stagepass-bench" },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(opts.pathParameters ? { pathParameters: opts.pathParameters } : {}),
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    isBase64Encoded: false,
  };
}

export const tokenEvent = (fx: Fixtures) =>
  httpEvent("POST", `/rooms/${ROOM_ID}/token`, "/rooms/{roomId}/token", {
    jwt: fx.jwt,
    body: {},
    pathParameters: { roomId: ROOM_ID },
  });

export function sqsEvent(body: unknown): SQSEvent {
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: "bench-receipt",
        body: JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: String(Date.now()),
          SenderId: "AIDABENCH",
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:DisconnectQueue`,
        awsRegion: REGION,
      },
    ],
  };
}

/**
 * The first invocation each function gets in the cold-init measurement: the token route for the token function,
 * and for the others a route that exercises their typical path (auth, one DynamoDB read, one more AWS call).
 */
export function firstEventFor(logicalId: string, fx: Fixtures): { event: unknown; what: string } | undefined {
  switch (logicalId) {
    case "TokenFunction":
      return {
        event: tokenEvent(fx),
        what: "POST /rooms/{roomId}/token (BatchGetItem, CreateParticipantToken, TransactWriteItems)",
      };
    case "RoomsFunction":
      return {
        event: httpEvent("GET", `/rooms/${ROOM_ID}`, "/rooms/{roomId}", {
          jwt: fx.jwt,
          pathParameters: { roomId: ROOM_ID },
        }),
        what: "GET /rooms/{roomId} (BatchGetItem ×2, the room's read claim and a budget slot (PutItem ×2), GetStage, TransactWriteItems)",
      };
    case "ModerationFunction":
      return {
        event: httpEvent("GET", `/rooms/${ROOM_ID}/bans`, "/rooms/{roomId}/bans", {
          jwt: fx.jwt,
          pathParameters: { roomId: ROOM_ID },
        }),
        what: "GET /rooms/{roomId}/bans (BatchGetItem, Query)",
      };
    case "HealthFunction":
      return { event: httpEvent("GET", "/health", "/health"), what: "GET /health (no I/O)" };
    case "LiveStateFunction":
      return {
        event: stageUpdateEvent(),
        what: "one IVS Stage Update event (BatchGetItem, TransactWriteItems, then a live read: PutItem ×2, ListParticipants, TransactWriteItems)",
      };
    case "DisconnectWorkerFunction":
      return {
        event: sqsEvent({
          roomId: ROOM_ID,
          stageArn: STAGE_ARN,
          participantId: "bench-participant-1",
          reason: "bench",
        }),
        what: "one SQS record (DisconnectParticipant, then its fixed 220 ms spacing wait)",
      };
    default:
      return undefined;
  }
}

/** A Participant Published event for the bench room, as EventBridge delivers it. */
export function stageUpdateEvent(): unknown {
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "IVS Stage Update",
    source: "aws.ivs",
    account: ACCOUNT_ID,
    time,
    region: REGION,
    resources: [STAGE_ARN],
    detail: {
      session_id: "st-BenchSession1",
      event_name: "Participant Published",
      event_time: time,
      user_id: "bench-user",
      participant_id: "benchPublisher1",
    },
  };
}
