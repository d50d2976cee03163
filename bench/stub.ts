// AWS answered at the HTTP layer: one small server per service (DynamoDB's JSON protocol, IVS Real-Time's
// restJson1, SQS's JSON protocol, and the user pool's JWKS), with canned but valid responses, over https when given
// a certificate (as AWS and Cognito answer: the SDK then takes the same https path as in AWS; over plain http it
// would import node:http, which an ES module pays for with undici's load, nodejs/node#59686). The handlers' AWS SDK
// clients are only pointed at it (AWS_ENDPOINT_URL_*), so serialisation, signing, the HTTP round trip and
// deserialisation are all counted. It also counts what it saw: calls per operation, TCP connections per service
// (a client built per request would open a connection per request) and JWKS fetches with their times.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";

/** What the stub answers with: the room item as stored (and its live counts), the stage it names, the user pool's JWKS. */
export interface StubData {
  roomItem: Record<string, unknown>;
  liveItem?: Record<string, unknown>;
  stage: { arn: string; name: string; endpoints: { events?: string | undefined; whip?: string | undefined } };
  jwks: { keys: Array<Record<string, unknown>> };
  userPoolId: string;
  /** When given, every service is served over https with this key and certificate, as AWS serves them. */
  tls?: { key: string; cert: string } | undefined;
}

export type Service = "dynamodb" | "ivs" | "sqs" | "jwks";
const SERVICES: Service[] = ["dynamodb", "ivs", "sqs", "jwks"];

export interface StubCounts {
  /** Calls per `service:operation`. */
  calls: Record<string, number>;
  /** TCP connections accepted per service. */
  connections: Record<Service, number>;
  /** Requests the stub could not answer (unknown operation), by `service:operation`. */
  unknown: Record<string, number>;
}

export interface AwsStub {
  urls: Record<Service, string>;
  counts(): StubCounts;
  /** Epoch ms (sub-ms precision) at which each JWKS response was sent since the last reset. */
  jwksServedAt(): number[];
  /** Epoch ms of the first DynamoDB or IVS request since the last reset. */
  firstAwsCallAt(): number | undefined;
  reset(): void;
  /** The stub's servers by port, for connections injected in-process (see memory-transport.ts). */
  serversByPort: Map<number, Server>;
  servicesByPort: Map<number, Service>;
  /** Serves an in-process connection with the stub's minimal (timed) HTTP/1.1 layer instead of node:http's server. */
  acceptRaw(service: Service, socket: Duplex): void;
  /** Time spent inside acceptRaw's HTTP layer and answers since the stub started, in ns. */
  stubTimeNs(): bigint;
  close(): Promise<void>;
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const epochNow = () => performance.timeOrigin + performance.now();

type Attr = Record<string, unknown>;

/** A value as DynamoDB's JSON wire format types it (the document client's default: arrays are lists). */
export function marshallValue(value: unknown): Attr {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === "string") return { S: value };
  if (typeof value === "number") return { N: String(value) };
  if (typeof value === "boolean") return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(marshallValue) };
  if (typeof value === "object") return { M: marshallItem(value as Record<string, unknown>) };
  throw new Error(`cannot marshall ${typeof value}`);
}

export function marshallItem(item: Record<string, unknown>): Record<string, Attr> {
  return Object.fromEntries(
    Object.entries(item)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, marshallValue(v)]),
  );
}

const keyOf = (key: Record<string, { S?: string }>) => `${key.pk?.S ?? ""}|${key.sk?.S ?? ""}`;

export async function startAwsStub(data: StubData): Promise<AwsStub> {
  const items = new Map<string, Record<string, Attr>>();
  const roomItem = marshallItem(data.roomItem);
  items.set(keyOf(roomItem as Record<string, { S?: string }>), roomItem);
  if (data.liveItem) {
    const liveItem = marshallItem(data.liveItem);
    items.set(keyOf(liveItem as Record<string, { S?: string }>), liveItem);
  }
  const jwksBody = Buffer.from(JSON.stringify(data.jwks));
  const stageBody = Buffer.from(
    JSON.stringify({
      stage: {
        arn: data.stage.arn,
        name: data.stage.name,
        tags: {},
        endpoints: {
          events: data.stage.endpoints.events,
          whip: data.stage.endpoints.whip,
          rtmp: "rtmp://bench",
          rtmps: "rtmps://bench",
        },
      },
    }),
  );

  let calls: Record<string, number> = {};
  let unknown: Record<string, number> = {};
  let connections = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<Service, number>;
  let jwksServed: number[] = [];
  let firstAws: number | undefined;
  let participants = 0;

  const count = (key: string) => {
    calls[key] = (calls[key] ?? 0) + 1;
  };
  type Reply = (status: number, contentType: string, body: Buffer | string, headers?: Record<string, string>) => void;
  const send = (
    res: Reply,
    status: number,
    contentType: string,
    body: Buffer | string,
    headers: Record<string, string> = {},
  ) => res(status, contentType, body, headers);

  const dynamodb = (target: string, body: any, res: Reply) => {
    const json = (o: unknown) => send(res, 200, "application/x-amz-json-1.0", JSON.stringify(o));
    switch (target) {
      case "BatchGetItem": {
        const responses: Record<string, unknown[]> = {};
        for (const [table, request] of Object.entries(body.RequestItems ?? {}) as Array<
          [string, { Keys: Array<Record<string, { S?: string }>> }]
        >) {
          responses[table] = request.Keys.map((k) => items.get(keyOf(k))).filter(Boolean);
        }
        return json({ Responses: responses, UnprocessedKeys: {} });
      }
      case "GetItem": {
        const item = items.get(keyOf(body.Key ?? {}));
        return json(item ? { Item: item } : {});
      }
      case "Query":
        return json({ Items: [], Count: 0, ScannedCount: 0 });
      case "TransactWriteItems":
      case "PutItem":
      case "UpdateItem":
      case "DeleteItem":
        return json({});
      case "BatchWriteItem":
        return json({ UnprocessedItems: {} });
      default:
        unknown[`dynamodb:${target}`] = (unknown[`dynamodb:${target}`] ?? 0) + 1;
        return send(
          res,
          400,
          "application/x-amz-json-1.0",
          JSON.stringify({ __type: "com.amazon.coral.service#UnknownOperationException" }),
        );
    }
  };

  const ivs = (operation: string, body: any, res: Reply) => {
    const json = (o: unknown) => send(res, 200, "application/json", JSON.stringify(o));
    switch (operation) {
      case "CreateParticipantToken": {
        participants++;
        const duration = Number(body.duration ?? 720);
        return json({
          participantToken: {
            participantId: `bench${String(participants).padStart(8, "0")}`,
            token: "eyJhbGciOiJLTVMiLCJ0eXAiOiJKV1QifQ.eyJiZW5jaCI6dHJ1ZX0.YmVuY2gtc2lnbmF0dXJl",
            userId: body.userId,
            attributes: body.attributes ?? {},
            duration,
            capabilities: body.capabilities ?? ["SUBSCRIBE"],
            expirationTime: new Date(Date.now() + duration * 60_000).toISOString(),
          },
        });
      }
      case "GetStage":
        return send(res, 200, "application/json", stageBody);
      case "ListParticipants":
        return json({ participants: [] });
      case "DisconnectParticipant":
        return json({});
      default:
        unknown[`ivs:${operation}`] = (unknown[`ivs:${operation}`] ?? 0) + 1;
        return send(res, 404, "application/json", JSON.stringify({ exceptionMessage: "not stubbed" }), {
          "x-amzn-errortype": "ResourceNotFoundException",
        });
    }
  };

  const sqs = (target: string, body: any, res: Reply) => {
    if (target === "SendMessage") {
      const md5 = createHash("md5")
        .update(String(body.MessageBody ?? ""))
        .digest("hex");
      return send(
        res,
        200,
        "application/x-amz-json-1.0",
        JSON.stringify({ MessageId: `bench-${Date.now()}`, MD5OfMessageBody: md5 }),
      );
    }
    unknown[`sqs:${target}`] = (unknown[`sqs:${target}`] ?? 0) + 1;
    return send(
      res,
      400,
      "application/x-amz-json-1.0",
      JSON.stringify({ __type: "com.amazonaws.sqs#UnsupportedOperation" }),
    );
  };

  /** One request, whichever HTTP layer read it. */
  const handle = (service: Service, url: string, target: string, raw: string, res: Reply) => {
    let body: any = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      body = {};
    }
    if (service === "jwks") {
      count("jwks:GET");
      send(res, 200, "application/json", jwksBody);
      jwksServed.push(epochNow());
      return;
    }
    firstAws ??= epochNow();
    if (service === "ivs") {
      const operation = url.split("?")[0]!.split("/").pop()!;
      count(`ivs:${operation}`);
      return ivs(operation, body, res);
    }
    const op = target.split(".").pop() ?? "";
    count(`${service}:${op}`);
    return service === "dynamodb" ? dynamodb(op, body, res) : sqs(op, body, res);
  };

  const handlerFor = (service: Service) => (req: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply: Reply = (status, contentType, body, headers = {}) => {
        const buf = typeof body === "string" ? Buffer.from(body) : body;
        response.writeHead(status, {
          "content-type": contentType,
          "content-length": String(buf.length),
          "x-amzn-requestid": "bench",
          ...headers,
        });
        response.end(buf);
      };
      handle(
        service,
        req.url ?? "/",
        String(req.headers["x-amz-target"] ?? ""),
        Buffer.concat(chunks).toString("utf8"),
        reply,
      );
    });
  };

  // The in-process HTTP layer (bench/children/memory-transport.ts): HTTP/1.1 read and written with as little work
  // as the protocol allows, every bit of it timed, so that the warm figure can say how much of a request was the
  // stub's (AWS's side) and how much the handler's. Requests must carry Content-Length (the SDK's and the lite
  // client's JSON requests do).
  let stubNs = 0n;
  const HEAD_END = Buffer.from("\r\n\r\n");
  const acceptRaw = (service: Service, socket: Duplex) => {
    connections[service]++;
    let buffer: Buffer = Buffer.alloc(0);
    const replies: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => {
      const t0 = process.hrtime.bigint();
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        const headEnd = buffer.indexOf(HEAD_END);
        if (headEnd < 0) break;
        const head = buffer.toString("latin1", 0, headEnd);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < headEnd + 4 + length) break;
        const [, url = "/"] = head.split(" ", 2);
        const target = /\r\nx-amz-target: *([^\r]*)/i.exec(head)?.[1] ?? "";
        const body = buffer.toString("utf8", headEnd + 4, headEnd + 4 + length);
        buffer = buffer.subarray(headEnd + 4 + length);
        handle(service, url, target, body, (status, contentType, payload, headers = {}) => {
          const buf = typeof payload === "string" ? Buffer.from(payload) : payload;
          let out = `HTTP/1.1 ${status} ${status < 300 ? "OK" : "Error"}\r\ncontent-type: ${contentType}\r\ncontent-length: ${buf.length}\r\nx-amzn-requestid: bench\r\n`;
          for (const [k, v] of Object.entries(headers)) out += `${k}: ${v}\r\n`;
          replies.push(Buffer.concat([Buffer.from(`${out}\r\n`, "latin1"), buf]));
        });
      }
      stubNs += process.hrtime.bigint() - t0;
      // Written after the clock stops: the in-memory pair hands a write to the client's 'data' listener
      // synchronously, and the client's reading of the answer is the handler's time, not the stub's.
      for (const reply of replies.splice(0)) socket.write(reply);
    });
    socket.on("error", () => socket.destroy());
  };

  const servers = new Map<Service, Server>();
  const serversByPort = new Map<number, Server>();
  const servicesByPort = new Map<number, Service>();
  const urls = {} as Record<Service, string>;
  for (const service of SERVICES) {
    const server: Server = data.tls
      ? createHttpsServer({ key: data.tls.key, cert: data.tls.cert, keepAlive: true }, handlerFor(service))
      : createServer({ keepAlive: true }, handlerFor(service));
    server.keepAliveTimeout = 120_000;
    server.on(data.tls ? "secureConnection" : "connection", () => {
      connections[service]++;
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const origin = `${data.tls ? "https" : "http"}://127.0.0.1:${port}`;
    urls[service] = service === "jwks" ? `${origin}/${data.userPoolId}/.well-known/jwks.json` : origin;
    servers.set(service, server);
    serversByPort.set(port, server);
    servicesByPort.set(port, service);
  }

  return {
    urls,
    counts: () => ({ calls: { ...calls }, connections: { ...connections }, unknown: { ...unknown } }),
    jwksServedAt: () => [...jwksServed],
    serversByPort,
    servicesByPort,
    acceptRaw,
    stubTimeNs: () => stubNs,
    firstAwsCallAt: () => firstAws,
    reset() {
      calls = {};
      unknown = {};
      connections = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<Service, number>;
      jwksServed = [];
      firstAws = undefined;
    },
    async close() {
      await Promise.all(
        [...servers.values()].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}
