// Connections to the stub without TCP: every http.Agent connection to one of the stub's ports becomes an in-memory
// duplex pair whose other end is handed to the stub's own http.Server (both ends documented to accept any Duplex:
// agent.createConnection and the server's 'connection' event). HTTP/1.1 is still written and parsed on both sides;
// only the kernel's loopback and the scheduler between two processes are gone.
// The token function's lite client (shared/aws/lite/http1.ts) opens its connections with net.connect rather than an
// Agent: those are routed the same way, by replacing node:net's connect (module.syncBuiltinESMExports makes an ES
// module's `import * as net` see the replacement, as its documentation describes).
import { Agent, type Server } from "node:http";
import { createRequire, syncBuiltinESMExports } from "node:module";
import type * as Net from "node:net";
import { duplexPair, type Duplex } from "node:stream";

const socketLike = (d: Duplex) => Object.assign(d, {
  setKeepAlive: () => d, setNoDelay: () => d, setTimeout: () => d, ref: () => d, unref: () => d,
  remoteAddress: "127.0.0.1", remotePort: 0, localAddress: "127.0.0.1", localPort: 0, remoteFamily: "IPv4",
});

export function routeAgentsInMemory(serversByPort: Map<number, Server>): () => void {
  const original = Agent.prototype.createConnection;
  Agent.prototype.createConnection = function (this: Agent, options: any, callback?: any) {
    const server = serversByPort.get(Number(options?.port));
    if (!server || (options?.host && !["127.0.0.1", "localhost"].includes(options.host))) {
      return (original as any).call(this, options, callback);
    }
    const [client, serverSide] = duplexPair();
    server.emit("connection", socketLike(serverSide));
    return socketLike(client);
  } as typeof original;

  const net = createRequire(import.meta.url)("node:net") as typeof Net;
  const originalConnect = net.connect;
  const connect = function (this: unknown, ...args: unknown[]) {
    const options = args[0] as { host?: string; port?: number } | number;
    const port = typeof options === "object" ? options.port : options;
    const host = typeof options === "object" ? options.host : (args[1] as string | undefined);
    const server = serversByPort.get(Number(port));
    if (!server || (host && !["127.0.0.1", "localhost"].includes(host))) return (originalConnect as any).apply(this, args);
    const [client, serverSide] = duplexPair();
    server.emit("connection", socketLike(serverSide));
    return socketLike(client);
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
