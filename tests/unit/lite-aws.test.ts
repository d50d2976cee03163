// The token function's AWS client (shared/aws/lite): SigV4 checked against the AWS SDK's own signer, the HTTP/1.1
// response parser on every framing AWS (or a proxy) may send, split at every byte, the connection handling against a
// real node:http server, and the SDK-like errors and retries. Its calls to DynamoDB Local and the IVS emulator are
// tested through the token suites (token-store with both clients, token, token-faults, self-signed).
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AwsServiceError,
  createLiteClient,
  DYNAMODB,
  endpointFor,
  IVS_REALTIME,
  SECRETS_MANAGER,
  toServiceError,
} from "../../shared/aws/lite/client.ts";
import { createHttp1Client, Http1Error, parseResponse } from "../../shared/aws/lite/http1.ts";
import { createSigner } from "../../shared/aws/lite/sigv4.ts";

const bytes = (d: string | ArrayBuffer | ArrayBufferView) =>
  typeof d === "string"
    ? Buffer.from(d)
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac("sha256", bytes(secret)) : createHash("sha256");
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {
    throw new Error("not used by the signer");
  }
}

describe("SigV4", () => {
  const cases: Array<{ service: string; host: string; path: string; headers: Record<string, string>; body: string }> = [
    {
      service: "dynamodb",
      host: "dynamodb.eu-west-1.amazonaws.com",
      path: "/",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.BatchGetItem" },
      body: JSON.stringify({ RequestItems: { t: { Keys: [{ pk: { S: "ROOM#é ü" } }] } } }),
    },
    {
      service: "ivs",
      host: "ivsrealtime.eu-west-1.amazonaws.com",
      path: "/CreateParticipantToken",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        stageArn: "arn:aws:ivs:eu-west-1:123456789012:stage/abc",
        userId: "u",
        capabilities: ["PUBLISH"],
        duration: 60,
        attributes: { displayName: "Zoë  two  spaces" },
      }),
    },
    {
      service: "secretsmanager",
      host: "127.0.0.1:4566",
      path: "/",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.GetSecretValue" },
      body: '{"SecretId":"a/b c"}',
    },
    {
      service: "ivs",
      host: "localhost:9000",
      path: "/a%20path/with%3Aodd*chars/",
      headers: { "content-type": "application/json", "x-custom": "  padded   value " },
      body: "",
    },
  ];
  const credentialSets = [
    { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "FwoGZXIvYXdzE//session+token==" },
  ];

  for (const c of cases) {
    for (const credentials of credentialSets) {
      it(`signs ${c.service} ${c.path} (${credentials.sessionToken ? "session" : "long-term"} credentials) exactly as the SDK's signer`, async () => {
        const when = new Date("2026-11-26T23:59:58.123Z");
        const ours = createSigner(credentials, { region: "eu-west-1", service: c.service }).sign(
          { method: "POST", host: c.host, path: c.path, headers: c.headers, body: c.body },
          when,
        );
        const [hostname, port] = c.host.split(":");
        const sdk = new SignatureV4({
          credentials,
          region: "eu-west-1",
          service: c.service,
          sha256: NodeSha256,
          applyChecksum: false,
        });
        const signed = await sdk.sign(
          {
            method: "POST",
            protocol: "https:",
            hostname: hostname!,
            ...(port ? { port: Number(port) } : {}),
            path: c.path,
            query: {},
            headers: { host: c.host, ...c.headers },
            body: c.body,
          },
          { signingDate: when },
        );
        expect(ours.authorization).toBe(signed.headers.authorization);
        expect(ours["x-amz-date"]).toBe(signed.headers["x-amz-date"]);
        expect(ours["x-amz-security-token"]).toBe(signed.headers["x-amz-security-token"]);
      });
    }
  }

  it("one prepared request signs each body at each instant as the SDK's signer does, across seconds, days and back", async () => {
    const credentials = credentialSets[1]!;
    for (const c of cases) {
      const prepared = createSigner(credentials, { region: "eu-west-1", service: c.service }).prepare({
        method: "POST",
        host: c.host,
        path: c.path,
        headers: c.headers,
      });
      const [hostname, port] = c.host.split(":");
      const sdk = new SignatureV4({
        credentials,
        region: "eu-west-1",
        service: c.service,
        sha256: NodeSha256,
        applyChecksum: false,
      });
      for (const at of [
        "2026-11-26T23:59:58.123Z",
        "2026-11-26T23:59:58.999Z",
        "2026-11-26T23:59:59.000Z",
        "2026-11-27T00:00:00.500Z",
        "2026-11-26T12:00:00.000Z",
      ]) {
        for (const body of [c.body, "{}", ""]) {
          const when = new Date(at);
          const ours = prepared.sign(body, when.getTime());
          const signed = await sdk.sign(
            {
              method: "POST",
              protocol: "https:",
              hostname: hostname!,
              ...(port ? { port: Number(port) } : {}),
              path: c.path,
              query: {},
              headers: { host: c.host, ...c.headers },
              body,
            },
            { signingDate: when },
          );
          expect(ours.authorization, `${c.path} at ${at}`).toBe(signed.headers.authorization);
          expect(ours["x-amz-date"]).toBe(signed.headers["x-amz-date"]);
        }
      }
    }
  });

  it("derives the signing key once a day, not per request, and a new one the next day", () => {
    const signer = createSigner(credentialSets[0]!, { region: "us-east-1", service: "dynamodb" });
    const req = { method: "POST", host: "h", path: "/", headers: {}, body: "{}" };
    const a = signer.sign(req, new Date("2026-11-26T10:00:00Z")).authorization!;
    const b = signer.sign(req, new Date("2026-11-27T10:00:00Z")).authorization!;
    expect(a).toContain("/20261126/us-east-1/dynamodb/aws4_request");
    expect(b).toContain("/20261127/us-east-1/dynamodb/aws4_request");
    expect(signer.sign(req, new Date("2026-11-26T10:00:00Z")).authorization).toBe(a);
  });
});

describe("HTTP/1.1 response parsing", () => {
  const framings: Array<{ name: string; wire: string; body: string; close?: boolean; endsWithConnection?: boolean }> = [
    {
      name: "Content-Length",
      wire: 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"a":"ünï"}',
      body: '{"a":"ünï"}',
    },
    {
      name: "chunked, with a chunk extension and trailers",
      wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{"a"\r\nA\r\n:"0123456"\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n',
      body: '{"a":"0123456"}',
    },
    {
      name: "chunked, no trailers",
      wire: "HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      body: "{}",
    },
    {
      name: "a 100 Continue first",
      wire: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
      body: "{}",
    },
    {
      name: "Connection: close",
      wire: "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      body: "",
      close: true,
    },
    {
      name: "HTTP/1.0 without keep-alive",
      wire: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
      body: "{}",
      close: true,
    },
    { name: "204 without a body", wire: "HTTP/1.1 204 No Content\r\n\r\n", body: "" },
    {
      name: "no framing: the body ends with the connection",
      wire: 'HTTP/1.1 200 OK\r\n\r\n{"x":1}',
      body: '{"x":1}',
      close: true,
      endsWithConnection: true,
    },
  ];

  for (const f of framings) {
    it(`${f.name}: complete only once every byte is in, whatever the split`, () => {
      const wire = Buffer.from(f.wire);
      for (let cut = 0; cut < wire.length; cut++) {
        expect(parseResponse(wire.subarray(0, cut), false), `cut at ${cut}`).toBeUndefined();
      }
      const parsed = parseResponse(wire, f.endsWithConnection ?? false)!;
      expect(parsed.response.body).toBe(f.body);
      expect(parsed.used).toBe(wire.length);
      expect(parsed.close).toBe(f.close ?? false);
    });
  }

  it("keeps the bytes after a response for the next one, and lower-cases and joins headers", () => {
    const wire = Buffer.from("HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n");
    const parsed = parseResponse(wire, false)!;
    expect(parsed.response.headers["x-a"]).toBe("1, 2");
    expect(wire.subarray(parsed.used).toString()).toBe("HTTP/1.1 200 OK\r\n");
  });

  it("reads headers named like Object properties as plain data, and skips a line without a name", () => {
    const wire = Buffer.from(
      "HTTP/1.1 200 OK\r\nConstructor: c\r\ntoString: t\r\n: nameless\r\nno colon\r\nContent-Length: 0\r\n\r\n",
    );
    expect(parseResponse(wire, false)!.response.headers).toEqual({
      constructor: "c",
      tostring: "t",
      "content-length": "0",
    });
  });

  it("refuses what is not HTTP/1.x or is cut short by the connection", () => {
    expect(() => parseResponse(Buffer.from("SSH-2.0-OpenSSH\r\n\r\n"), false)).toThrow(Http1Error);
    expect(() => parseResponse(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"), true)).toThrow(
      /closed mid-response/,
    );
    expect(() => parseResponse(Buffer.from("HTTP/1.1 200 OK\r\nContent-Le"), true)).toThrow(/before the response head/);
    expect(() => parseResponse(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), false)).toThrow(
      /content-length/,
    );
  });
});

/** A port that was just free: a connection to it is refused. */
async function portNothingListensOn(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  return port;
}

describe("the HTTP/1.1 client against node:http", () => {
  let server: Server;
  let origin: string;
  const connections: string[] = [];
  const openSockets: Socket[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => handler(req, res, Buffer.concat(chunks).toString()));
    });
    server.on("connection", (socket) => {
      connections.push(`${socket.remotePort}`);
      openSockets.push(socket);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  it("sends the request as written and reuses one connection for sequential requests", async () => {
    const client = createHttp1Client(origin);
    const seen: Array<{
      method?: string;
      url?: string;
      host?: string;
      target?: string;
      length?: string;
      body: string;
    }> = [];
    handler = (req, res, body) => {
      seen.push({
        method: req.method,
        url: req.url,
        host: req.headers.host,
        target: req.headers["x-amz-target"] as string,
        length: req.headers["content-length"],
        body,
      });
      // Two writes: node answers chunked.
      res.writeHead(200, { "content-type": "application/json" });
      res.write(`{"echo":${JSON.stringify(body)},`);
      res.end(`"n":${seen.length}}`);
    };
    connections.length = 0;
    for (let i = 1; i <= 20; i++) {
      const r = await client.request({
        method: "POST",
        path: "/x?y=1",
        headers: { "x-amz-target": "T.Op" },
        body: `{"i":${i},"s":"ü"}`,
        timeoutMs: 2_000,
      });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ echo: `{"i":${i},"s":"ü"}`, n: i });
    }
    expect(connections).toHaveLength(1);
    expect(seen[0]).toEqual({
      method: "POST",
      url: "/x?y=1",
      host: origin.slice(7),
      target: "T.Op",
      length: String(Buffer.byteLength(`{"i":1,"s":"ü"}`)),
      body: `{"i":1,"s":"ü"}`,
    });
    client.close();
  });

  it("opens a connection per concurrent request and keeps them for later", async () => {
    const client = createHttp1Client(origin);
    handler = (_req, res, body) => setTimeout(() => res.end(body), 20);
    connections.length = 0;
    const bodies = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        client.request({ method: "POST", path: "/", headers: {}, body: String(i), timeoutMs: 2_000 }),
      ),
    );
    expect(bodies.map((b) => b.body)).toEqual(["1", "2", "3", "4"]);
    await Promise.all(
      [5, 6, 7, 8].map((i) =>
        client.request({ method: "POST", path: "/", headers: {}, body: String(i), timeoutMs: 2_000 }),
      ),
    );
    expect(connections).toHaveLength(4);
    client.close();
  });

  it("drops a connection the server closed while idle, or asked to close, and uses a new one", async () => {
    const client = createHttp1Client(origin);
    handler = (_req, res) => {
      res.setHeader("connection", "close");
      res.end("{}");
    };
    connections.length = 0;
    await client.request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 });
    handler = (_req, res) => res.end("{}");
    await client.request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 });
    expect(connections).toHaveLength(2);
    // The server closes the idle connection; once its side is closed, give the client's side the FIN (same process,
    // loopback: it is already queued) before the next request.
    const closed = new Promise<void>((resolve) => openSockets.at(-1)!.once("close", () => resolve()));
    server.closeIdleConnections();
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    const r = await client.request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 });
    expect(r.status).toBe(200);
    expect(connections).toHaveLength(3);
    client.close();
  });

  it("does not reuse an idle connection the server's Keep-Alive timeout is about to end", async () => {
    const client = createHttp1Client(origin);
    connections.length = 0;
    handler = (_req, res) => {
      res.setHeader("keep-alive", "timeout=1");
      res.end("{}");
    };
    await client.request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 });
    // timeout=1 s, less the 1 s margin: never reused.
    await client.request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 });
    expect(connections).toHaveLength(2);
    handler = (_req, res) => {
      res.setHeader("keep-alive", "timeout=60");
      res.end("{}");
    };
    await client.request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 });
    await client.request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 });
    expect(connections).toHaveLength(3);
    client.close();
  });

  it("fails a request without an answer in time (TimeoutError, no status) and closes its connection; an abort does the same", async () => {
    const client = createHttp1Client(origin);
    handler = () => undefined; // never answers
    const started = Date.now();
    const error = await client
      .request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 150 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http1Error);
    expect((error as Error).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const aborted = await client
      .request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 5_000, signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);
    expect((aborted as Error).name).toBe("TimeoutError");
    handler = (_req, res) => res.end("ok");
    expect((await client.request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 })).body).toBe(
      "ok",
    );
    client.close();
  });

  it("preconnect opens the one connection the first requests then use, before any request", async () => {
    const client = createHttp1Client(origin);
    handler = (_req, res, body) => res.end(body);
    connections.length = 0;
    await client.preconnect();
    expect(connections).toHaveLength(1);
    for (let i = 0; i < 3; i++)
      expect(
        (await client.request({ method: "POST", path: "/", headers: {}, body: String(i), timeoutMs: 2_000 })).body,
      ).toBe(String(i));
    expect(connections).toHaveLength(1);
    client.close();
  });

  it("preconnect never fails: with nothing listening it resolves, and the first request fails as usual", async () => {
    const client = createHttp1Client(`http://127.0.0.1:${await portNothingListensOn()}`);
    await expect(client.preconnect()).resolves.toBeUndefined();
    const error = await client
      .request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 })
      .catch((e: unknown) => e);
    expect((error as Http1Error).code).toBe("ECONNREFUSED");
    client.close();
  });

  it("fails fast when nothing listens (no status: transient to its callers)", async () => {
    const client = createHttp1Client(`http://127.0.0.1:${await portNothingListensOn()}`);
    const error = await client
      .request({ method: "POST", path: "/", headers: {}, body: "", timeoutMs: 2_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http1Error);
    expect((error as Http1Error).code).toBe("ECONNREFUSED");
    client.close();
  });
});

describe("the lite client's errors and retries", () => {
  let server: Server;
  let env: NodeJS.ProcessEnv;
  let answers: Array<{ status: number; headers?: Record<string, string>; body: string }> = [];
  const requests: Array<{ url?: string; target?: string; authorization?: string; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        requests.push({
          url: req.url,
          target: req.headers["x-amz-target"] as string,
          authorization: req.headers.authorization,
          body: Buffer.concat(chunks).toString(),
        });
        const a = answers.shift() ?? { status: 200, body: "{}" };
        res.writeHead(a.status, a.headers ?? {}).end(a.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    env = {
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "AKID",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_ENDPOINT_URL_DYNAMODB: url,
      AWS_ENDPOINT_URL_IVS_REALTIME: `${url}/prefix/`,
    };
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  it("reads its endpoint, region and credentials as the SDK does", () => {
    expect(endpointFor(DYNAMODB, { AWS_REGION: "eu-west-1" })).toEqual({
      region: "eu-west-1",
      endpoint: "https://dynamodb.eu-west-1.amazonaws.com",
    });
    expect(endpointFor(IVS_REALTIME, { AWS_REGION: "us-west-2" }).endpoint).toBe(
      "https://ivsrealtime.us-west-2.amazonaws.com",
    );
    expect(endpointFor(SECRETS_MANAGER, { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "http://x:1" }).endpoint).toBe(
      "http://x:1",
    );
    expect(
      endpointFor(SECRETS_MANAGER, {
        AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL: "http://x:1",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://y:2",
      }).endpoint,
    ).toBe("http://y:2");
    expect(() =>
      createLiteClient(DYNAMODB, { maxAttempts: 1, timeoutMs: 1, env: { AWS_REGION: "eu-west-1" } }),
    ).toThrow(/AWS_ACCESS_KEY_ID/);
    expect(() => endpointFor(DYNAMODB, {})).toThrow(/AWS_REGION/);
  });

  it("sends awsJson with its target and restJson to the operation's path (under the endpoint's path), signed", async () => {
    requests.length = 0;
    const ddb = createLiteClient(DYNAMODB, { maxAttempts: 1, timeoutMs: 2_000, env });
    const ivs = createLiteClient(IVS_REALTIME, { maxAttempts: 1, timeoutMs: 2_000, env });
    answers = [
      { status: 200, body: '{"Responses":{}}' },
      { status: 200, body: "" },
    ];
    expect(await ddb.json("DynamoDB_20120810.BatchGetItem", "application/x-amz-json-1.0", { a: 1 })).toEqual({
      Responses: {},
    });
    expect(await ivs.restPost("/CreateParticipantToken", { b: 2 })).toEqual({});
    expect(requests.map((r) => [r.url, r.target, r.body])).toEqual([
      ["/", "DynamoDB_20120810.BatchGetItem", '{"a":1}'],
      ["/prefix/CreateParticipantToken", undefined, '{"b":2}'],
    ]);
    expect(requests[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(requests[1]!.authorization).toContain("/eu-west-1/ivs/aws4_request");
    ddb.close();
    ivs.close();
  });

  it("shapes errors like the SDK: code from x-amzn-errortype, __type or code; members kept; status in $metadata", () => {
    const rest = toServiceError({
      status: 404,
      headers: {
        "x-amzn-errortype": "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.ivs/",
        "x-amzn-requestid": "r1",
      },
      body: '{"message":"no stage","exceptionMessage":"x"}',
    });
    expect(rest).toBeInstanceOf(AwsServiceError);
    expect([rest.name, rest.message, rest.$metadata, rest.$fault, rest.exceptionMessage]).toEqual([
      "ResourceNotFoundException",
      "no stage",
      { httpStatusCode: 404, requestId: "r1" },
      "client",
      "x",
    ]);
    const json = toServiceError({
      status: 400,
      headers: {},
      body: JSON.stringify({
        __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        Message: "cancelled [None, ConditionalCheckFailed]",
        CancellationReasons: [{ Code: "None" }, { Code: "ConditionalCheckFailed", Item: { untilMs: { N: "5" } } }],
      }),
    });
    expect([json.name, json.message]).toEqual([
      "TransactionCanceledException",
      "cancelled [None, ConditionalCheckFailed]",
    ]);
    expect(json.CancellationReasons).toEqual([
      { Code: "None" },
      { Code: "ConditionalCheckFailed", Item: { untilMs: { N: "5" } } },
    ]);
    const proxy = toServiceError({ status: 502, headers: {}, body: "<html>bad gateway</html>" });
    expect([proxy.name, proxy.$fault]).toEqual(["Http502Error", "server"]);
    // A member named like one of Error's own is not copied over it.
    expect(toServiceError({ status: 400, headers: {}, body: '{"code":"X","name":"Y","stack":"z"}' }).name).toBe("X");
  });

  it("retries 5xx, throttling and network errors up to maxAttempts, never a client error", async () => {
    const ddb = createLiteClient(DYNAMODB, { maxAttempts: 3, timeoutMs: 2_000, env });
    requests.length = 0;
    answers = [
      { status: 500, body: '{"__type":"InternalServerError"}' },
      { status: 400, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException"}' },
      { status: 200, body: '{"ok":true}' },
    ];
    expect(await ddb.json("DynamoDB_20120810.GetItem", "application/x-amz-json-1.0", {})).toEqual({ ok: true });
    expect(requests).toHaveLength(3);

    requests.length = 0;
    answers = [
      { status: 400, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad"}' },
    ];
    const invalid = await ddb
      .json("DynamoDB_20120810.GetItem", "application/x-amz-json-1.0", {})
      .catch((e: unknown) => e);
    expect([(invalid as Error).name, (invalid as Error).message, requests.length]).toEqual([
      "ValidationException",
      "bad",
      1,
    ]);

    requests.length = 0;
    answers = [503, 503, 503, 503].map((status) => ({ status, body: "" }));
    const unavailable = await ddb
      .json("DynamoDB_20120810.GetItem", "application/x-amz-json-1.0", {})
      .catch((e: unknown) => e);
    expect([(unavailable as AwsServiceError).$metadata.httpStatusCode, requests.length]).toEqual([503, 3]);
    answers = [];
    ddb.close();
  });
});
