// Connections to the stub without TCP: every http.Agent connection to one of the stub's ports becomes an in-memory
// duplex pair whose other end is handed to the stub's own http.Server (both ends documented to accept any Duplex:
// agent.createConnection and the server's 'connection' event). HTTP/1.1 is still written and parsed on both sides;
// only the kernel's loopback and the scheduler between two processes are gone.
import { Agent, type Server } from "node:http";
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
  return () => { Agent.prototype.createConnection = original; };
}
