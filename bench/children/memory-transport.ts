// Connections to the stub without TCP: every connection to one of the stub's ports, opened through an http.Agent
// (the SDK, the bench's own references) or node:net's connect (the token function's lite client,
// shared/aws/lite/http1.ts), becomes an in-memory duplex pair whose other end the stub serves with its minimal,
// timed HTTP/1.1 layer (AwsStub.acceptRaw). The client side still writes and parses real HTTP/1.1; the kernel's
// loopback, the scheduler between two processes and node:http's server are gone, and what the stub itself spends
// is timed, so that the warm figure can be split into the handler's share and the stub's.
//
// node:net's connect is replaced in its module object; module.syncBuiltinESMExports makes an ES module's
// `import * as net` see the replacement, as its documentation describes.
import { Agent } from "node:http";
import { createRequire, syncBuiltinESMExports } from "node:module";
import type * as Net from "node:net";
import { duplexPair, type Duplex } from "node:stream";
import type { AwsStub } from "../stub.ts";

const socketLike = (d: Duplex) =>
  Object.assign(d, {
    setKeepAlive: () => d,
    setNoDelay: () => d,
    setTimeout: () => d,
    ref: () => d,
    unref: () => d,
    remoteAddress: "127.0.0.1",
    remotePort: 0,
    localAddress: "127.0.0.1",
    localPort: 0,
    remoteFamily: "IPv4",
  });

/**
 * Routes connections to the stub's DynamoDB, IVS and SQS ports in memory. The JWKS port stays on TCP: undici
 * (fetch(), which aws-jwt-verify uses for an http:// JWKS) needs a real socket, and the JWKS is fetched at init,
 * which is not measured here.
 */
export function routeStubInMemory(stub: AwsStub): () => void {
  const serviceAt = (host: string | undefined, port: unknown) => {
    const service = stub.servicesByPort.get(Number(port));
    if (!service || service === "jwks" || (host && !["127.0.0.1", "localhost"].includes(host))) return undefined;
    return service;
  };
  const open = (service: NonNullable<ReturnType<typeof serviceAt>>) => {
    const [client, serverSide] = duplexPair();
    stub.acceptRaw(service, serverSide);
    return socketLike(client);
  };

  const original = Agent.prototype.createConnection;
  Agent.prototype.createConnection = function (this: Agent, options: any, callback?: any) {
    const service = serviceAt(options?.host, options?.port);
    return service ? open(service) : (original as any).call(this, options, callback);
  } as typeof original;

  const net = createRequire(import.meta.url)("node:net") as typeof Net;
  const originalConnect = net.connect;
  const connect = function (this: unknown, ...args: unknown[]) {
    const options = args[0] as { host?: string; port?: number } | number;
    const service =
      typeof options === "object"
        ? serviceAt(options.host, options.port)
        : serviceAt(args[1] as string | undefined, options);
    return service ? open(service) : (originalConnect as any).apply(this, args);
  } as typeof originalConnect;
  net.connect = connect;
  net.createConnection = connect;
  syncBuiltinESMExports();
  return () => {
    Agent.prototype.createConnection = original;
    net.connect = originalConnect;
    net.createConnection = originalConnect;
    syncBuiltinESMExports();
  };
}
