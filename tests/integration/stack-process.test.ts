/**
 * `npm start` as a user runs it: `tsx local/start.ts` in its own process. It prints a banner and a ready line,
 * serves the API on PORT, stops cleanly on Ctrl-C (SIGINT) with nothing left running (DynamoDB Local's JVM
 * included), and fails with a clear message when Java is missing or the port is taken.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startStack } from "../../local/stack.ts";
import { loadTemplate, projectRoot } from "../../local/template.ts";

const TSX = join(projectRoot, "node_modules", ".bin", "tsx");

interface Started {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Every process seen below the child while it ran (pid → command line). */
  seen: Map<number, string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/**
 * A free port below the OS's ephemeral range (from 32768 on Linux): between npm start's check that PORT is free and
 * its bind, once the stack is up, no server binding port 0 (the stack's own parts, or another test's) can be given
 * it, as none is ever given 3000 in a user's run. A port from that range could be, and the start then fails.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once("error", () => resolve(false));
      probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** pid → command line of every process below `root`, from one `ps` listing. */
function descendants(root: number): Map<number, string> {
  const rows = execFileSync("ps", ["-e", "-o", "pid=,ppid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const found = new Map<number, string>();
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const row of rows) {
      if (row.ppid === parent && !found.has(row.pid)) {
        found.set(row.pid, row.args);
        queue.push(row.pid);
      }
    }
  }
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `detached` puts it in its own process group, as a shell does with a foreground job: Ctrl-C signals the group. */
function start(env: NodeJS.ProcessEnv, opts: { detached?: boolean } = {}): Started {
  const child = spawn(TSX, ["local/start.ts"], {
    cwd: projectRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached ?? false,
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const seen = new Map<number, string>();
  // Watch the process tree while it runs, so that processes it started and then lost track of are still known.
  const watch = setInterval(() => {
    if (child.pid !== undefined && child.exitCode === null)
      for (const [pid, args] of descendants(child.pid)) seen.set(pid, args);
  }, 100);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      clearInterval(watch);
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, output: () => ({ stdout, stderr }), seen, exited };
}

async function waitFor(started: Started, pattern: RegExp, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pattern.test(started.output().stdout)) {
    if (started.child.exitCode !== null)
      throw new Error(`exited (${started.child.exitCode}) before ${pattern}:\n${JSON.stringify(started.output())}`);
    if (Date.now() > until)
      throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${JSON.stringify(started.output())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exitWithin(started: Started, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  const result = await Promise.race([started.exited, timeout]);
  clearTimeout(timer);
  return result;
}

/** Gives processes a moment to be reaped, then lists those still alive. */
async function leftOver(pids: Iterable<number>): Promise<number[]> {
  const list = [...pids];
  for (let i = 0; i < 20 && list.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  return list.filter(alive);
}

afterEach(async () => {
  // A failed test must not leave a stack running: stop what it started (its whole tree).
  for (const child of running) {
    if (child.pid === undefined) continue;
    const tree = descendants(child.pid);
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* not a group leader */
    }
    child.kill("SIGKILL");
    for (const pid of tree.keys()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
});

describe("npm start (tsx local/start.ts)", () => {
  it("prints the banner, serves on PORT, and Ctrl-C stops it with exit 0 and no DynamoDB Local left", async () => {
    const port = await freePort();
    // Webhooks on, to a port where nothing listens (nothing here makes an event): the banner shows where and the key.
    const started = start(
      { ...process.env, PORT: String(port), WEBHOOK_URL: "http://127.0.0.1:9/hook" },
      { detached: true },
    );
    await waitFor(started, /ready in [\d.]+ s/, 90_000);
    const { stdout } = started.output();
    const url = `http://127.0.0.1:${port}`;
    expect(stdout).toContain(`HTTP API     ${url}`);
    const info = (await (await fetch(`${url}/dev/info`)).json()) as { webhookSecret: string; tableName: string };
    // The table the docs name (local/README: the AWS CLI on it), in a DynamoDB Local of npm start's own.
    expect(info.tableName).toBe("stagepass-local");
    expect(info.webhookSecret).toMatch(/^whsec_[A-Za-z0-9]{48}$/);
    expect(stdout).toContain(`Webhooks     → http://127.0.0.1:9/hook   secret ${info.webhookSecret}`);
    expect(stdout).toContain(`deliveries: GET ${url}/dev/webhooks`);
    expect(stdout).toContain(`POST ${url}/dev/login`);
    expect(stdout).toContain(`GET ${url}/health`);
    expect(stdout).toContain("CORS for http://localhost:5173");

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const login = await fetch(`${url}/dev/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "process-alice" }),
    });
    expect(login.status).toBe(200);
    const { idToken } = (await login.json()) as { idToken: string };
    const rooms = await fetch(`${url}/rooms`, { headers: { authorization: `Bearer ${idToken}` } });
    expect(rooms.status).toBe(200);

    // The processes it runs: DynamoDB Local's JVM among them.
    for (const [pid, args] of descendants(started.child.pid!)) started.seen.set(pid, args);
    const javas = [...started.seen].filter(([, args]) => /DynamoDBLocal/.test(args)).map(([pid]) => pid);
    expect(javas.length).toBeGreaterThanOrEqual(1);
    expect(javas.every(alive)).toBe(true);

    // Ctrl-C in a terminal: SIGINT to the whole foreground process group (tsx, node and the JVM alike).
    process.kill(-started.child.pid!, "SIGINT");
    const result = await exitWithin(started, 10_000);
    expect(result, JSON.stringify(started.output())).toEqual({ code: 0, signal: null });
    expect(started.output().stdout).toContain("SIGINT: stopping the offline stack");
    expect(await leftOver(javas)).toEqual([]);
    expect(await leftOver(started.seen.keys())).toEqual([]);
    // The port is released.
    const probe: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen(port, "127.0.0.1", resolve);
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }, 120_000);

  it("without java on the PATH: a clear message naming Java 17, a non-zero exit, nothing left running", async () => {
    const port = await freePort();
    // tsx and Node 22 live in node_modules/.bin; java does not.
    const started = start({
      PATH: join(projectRoot, "node_modules", ".bin"),
      HOME: process.env.HOME,
      PORT: String(port),
    });
    const result = await exitWithin(started, 90_000);
    const { stdout, stderr } = started.output();
    expect(result, JSON.stringify({ stdout, stderr })).not.toBe("timeout");
    expect((result as { code: number | null }).code).not.toBe(0);
    expect((result as { code: number | null }).code).not.toBeNull();
    expect(stderr).toContain("cannot start the offline stack");
    expect(stderr).toMatch(/Java 17/);
    expect(stderr).toMatch(/java.*not found on the PATH/);
    expect(stdout).not.toMatch(/ready in/);
    expect(await leftOver(started.seen.keys())).toEqual([]);
  }, 120_000);

  it("with PORT that is not a port number: a clear message and a non-zero exit, before anything starts", async () => {
    for (const bad of ["abc", "70000"]) {
      const started = start({ ...process.env, PORT: bad });
      const result = await exitWithin(started, 60_000);
      const { stdout, stderr } = started.output();
      expect(result, JSON.stringify({ stdout, stderr })).toEqual({ code: 1, signal: null });
      expect(stderr).toContain(`PORT must be a port number (0-65535), not "${bad}"`);
      expect([...started.seen.values()].some((args) => /DynamoDBLocal/.test(args))).toBe(false);
    }
  }, 120_000);

  it("with PORT in use: a clear message naming the port, a non-zero exit, nothing left running", async () => {
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const started = start({ ...process.env, PORT: String(port) });
      const result = await exitWithin(started, 90_000);
      const { stdout, stderr } = started.output();
      expect(result, JSON.stringify({ stdout, stderr })).not.toBe("timeout");
      expect((result as { code: number | null }).code).not.toBe(0);
      expect((result as { code: number | null }).code).not.toBeNull();
      expect(stderr).toContain(`port ${port} is in use`);
      expect(stderr).toContain("PORT=");
      expect(stdout).not.toMatch(/ready in/);
      expect(await leftOver(started.seen.keys())).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  }, 120_000);
});

describe("startStack that fails part-way", () => {
  it("stops whatever it had started (DynamoDB Local, the IVS emulator, the queue server) before it rejects", async () => {
    const template = loadTemplate();
    const health = template.Resources.HealthFunction!;
    (health.Metadata!.BuildProperties as { EntryPoints: string[] }).EntryPoints = ["functions/does-not-exist/index.ts"];
    const servers = () => process.getActiveResourcesInfo().filter((r) => r === "TCPServerWrap").length;
    const javas = () =>
      [...descendants(process.pid)].filter(([, args]) => /DynamoDBLocal/.test(args)).map(([pid]) => pid);
    const serversBefore = servers();
    const javasBefore = javas();
    const seen = new Set<number>();
    const watch = setInterval(() => {
      for (const pid of javas()) seen.add(pid);
    }, 100);
    try {
      await expect(startStack({ port: 0, template, logLevel: "ERROR" })).rejects.toThrow(/does-not-exist/);
    } finally {
      clearInterval(watch);
    }
    expect(await leftOver([...seen].filter((pid) => !javasBefore.includes(pid)))).toEqual([]);
    expect(javas()).toEqual(javasBefore);
    // No more listening servers than before (one left from an earlier test may finish closing meanwhile).
    expect(servers()).toBeLessThanOrEqual(serversBefore);
  }, 120_000);
});
