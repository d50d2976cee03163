// Token throughput through the offline stack (`npm start`'s stack: the HTTP API, the function sandboxes, DynamoDB
// Local, the IVS emulator), driven over HTTP like a crowd of viewers: each load worker is its own signed-in user
// (the token limit is per user per room), all asking for tokens to one room.
import { generateKeyPairSync, sign } from "node:crypto";
import { startStack, type Stack } from "../local/stack.ts";
import { runLoad, type LoadResult } from "./load.ts";
import { median } from "./stats.ts";

export type TokenMode = "api" | "self-signed";

export interface StackLoadSettings {
  requests: number;
  concurrency: number;
  /** Requests for the API-mode run with IVS's rates enforced (sustained throttling: the load is well above 50/s). */
  apiRateRequests: number;
  /** Requests for the self-signed run with IVS's rates enforced. */
  selfSignedRequests: number;
  /** Concurrent requests in each burst (one user; as many users). */
  burst: number;
}

/** A burst of concurrent token requests, all at once, and what IVS saw of it. */
export interface BurstResult {
  users: number;
  load: LoadResult;
  createParticipantTokenCalls: number;
  /** CreateParticipantToken calls per token issued. */
  callsPerToken: number;
  fiveXx: number;
}

/** The bursts of the overload contract, on a stack of their own with TOKEN_RATE_PER_MINUTE = `limit`. */
export interface BurstSection {
  limit: number;
  oneUser?: BurstResult;
  manyUsers?: BurstResult;
  errors: string[];
}

export interface ModeResult {
  mode: TokenMode;
  load: LoadResult;
  /** IVS CreateParticipantToken calls the emulator answered during the run. */
  createParticipantTokenCalls: number;
}

export interface StackSection {
  /** Rates not enforced: the stack's own throughput (issue 7). */
  unthrottled?: LoadResult;
  /** Both token modes with IVS's published rates enforced (issue 9). */
  apiWithRates?: ModeResult;
  selfSigned?: ModeResult & { es384SignMedianUs: number; costPerTokenUs: number; ratioToEs384: number };
  selfSignedUnavailable?: string;
  bursts?: BurstSection;
  es384SignMedianUs: number;
  /** IVS's CreateParticipantToken quota the emulator enforces. */
  ivsTokenQuotaPerSecond: number;
  errors: string[];
}

export const IVS_CREATE_PARTICIPANT_TOKEN_TPS = 50;

/** CreateParticipantToken calls per token the run issued. */
export function callsPerToken(run: ModeResult): number {
  const ok = Object.entries(run.load.statuses)
    .filter(([s]) => s.startsWith("2"))
    .reduce((n, [, c]) => n + c, 0);
  return ok > 0 ? run.createParticipantTokenCalls / ok : Infinity;
}

const stackEnv = (mode: TokenMode, tokenRatePerMinute = 1_000_000) => ({
  ...process.env,
  TOKEN_MODE: mode,
  // The limit is per user per room per minute; the load is many tokens per user, so it is lifted (but for the bursts).
  TOKEN_RATE_PER_MINUTE: String(tokenRatePerMinute),
  // The functions' logs would drown the report.
  POWERTOOLS_LOG_LEVEL: "ERROR",
});

/** The limit the bursts run with, as the overload tests do. */
export const BURST_TOKEN_LIMIT = 30;

/** startStack, tried once more when it fails (DynamoDB Local's JVM can miss its start-up time on a busy machine). */
async function startBenchStack(options: Parameters<typeof startStack>[0]): Promise<Stack> {
  try {
    return await startStack(options);
  } catch {
    return startStack(options);
  }
}

async function call(stack: Stack, method: string, path: string, token: string | undefined, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

async function prepare(stack: Stack, users: number, prefix = "bench-viewer") {
  const tokens: string[] = [];
  for (let i = 0; i < users; i++) {
    const r = await call(stack, "POST", "/dev/login", undefined, { username: `${prefix}-${i}` });
    if (r.status !== 200) throw new Error(`/dev/login answered ${r.status}`);
    tokens.push(r.json.idToken);
  }
  const owner = await call(stack, "POST", "/dev/login", undefined, { username: "bench-owner" });
  const room = await call(stack, "POST", "/rooms", owner.json.idToken, { name: "bench" });
  if (room.status !== 201)
    throw new Error(`POST /rooms answered ${room.status}: ${room.json?.type ?? room.text.slice(0, 200)}`);
  return { tokens, roomId: String(room.json.roomId) };
}

const tokenCalls = (stack: Stack) => stack.ivs.requestCounts().CreateParticipantToken ?? 0;

export function measureEs384Floor(samples = 3000): number {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  // A participant token's signing input is a few hundred bytes of base64url JSON.
  const input = Buffer.from(
    `${Buffer.from(JSON.stringify({ alg: "ES384", typ: "JWT", kid: "arn:aws:ivs:us-east-1:123456789012:public-key/abcdEFGH1234" })).toString("base64url")}.${Buffer.from(
      JSON.stringify({
        exp: 1_900_000_000,
        iat: 1_899_996_400,
        jti: "abcdEFGH1234",
        resource: "arn:aws:ivs:us-east-1:123456789012:stage/abcdEFGH1234",
        topic: "abcdEFGH1234",
        events_url: "wss://global.events.live-video.net",
        whip_url: "https://global.whip.live-video.net",
        user_id: "0b5c1f62-8c1e-4a3b-a1f0-3f1d2c4b5a69",
        attributes: { role: "viewer", displayName: "Ana" },
        capabilities: { allow_subscribe: true },
        version: "1.0",
      }),
    ).toString("base64url")}`,
  );
  const once = () => sign("sha384", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
  for (let i = 0; i < 200; i++) once();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    once();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(times);
}

export async function measureStackThroughput(
  settings: StackLoadSettings,
  progress: (line: string) => void,
): Promise<StackSection> {
  const errors: string[] = [];
  const es384SignMedianUs = measureEs384Floor();
  const section: StackSection = { es384SignMedianUs, ivsTokenQuotaPerSecond: IVS_CREATE_PARTICIPANT_TOKEN_TPS, errors };
  const load = (stack: Stack, tokens: string[], roomId: string, requests: number) =>
    runLoad({
      url: stack.url,
      method: "POST",
      path: `/rooms/${roomId}/token`,
      tokens,
      requests,
      concurrency: settings.concurrency,
    });

  // API mode: first the stack's own throughput, then the same with IVS's rates enforced.
  progress("offline stack (TOKEN_MODE=api): starting");
  let stack: Stack | undefined;
  try {
    stack = await startBenchStack({ port: 0, logLevel: "ERROR", enforceIvsRates: false, env: stackEnv("api") });
    const { tokens, roomId } = await prepare(stack, settings.concurrency);
    await load(stack, tokens, roomId, Math.min(200, settings.requests)); // warm-up: JIT, connections
    progress(
      `offline stack (TOKEN_MODE=api): ${settings.requests} token requests at concurrency ${settings.concurrency}`,
    );
    section.unthrottled = await load(stack, tokens, roomId, settings.requests);

    stack.ivs.setEnforceRates(true);
    await new Promise((r) => setTimeout(r, 1_100)); // an empty one-second window
    progress(`offline stack (TOKEN_MODE=api, IVS rates enforced): ${settings.apiRateRequests} token requests`);
    const before = tokenCalls(stack);
    const apiLoad = await load(stack, tokens, roomId, settings.apiRateRequests);
    section.apiWithRates = { mode: "api", load: apiLoad, createParticipantTokenCalls: tokenCalls(stack) - before };
  } catch (error) {
    errors.push(`API mode: ${(error as Error).message}`);
  } finally {
    await stack?.close();
    stack = undefined;
  }

  // Self-signed mode, with IVS's rates enforced from the start.
  progress("offline stack (TOKEN_MODE=self-signed, IVS rates enforced): starting");
  try {
    try {
      stack = await startBenchStack({
        port: 0,
        logLevel: "ERROR",
        enforceIvsRates: true,
        env: stackEnv("self-signed"),
      });
    } catch (error) {
      throw new Unavailable(`the stack did not start: ${(error as Error).message.split("\n")[0]}`);
    }
    let prepared: Awaited<ReturnType<typeof prepare>>;
    try {
      prepared = await prepare(stack, settings.concurrency);
    } catch (error) {
      throw new Unavailable((error as Error).message);
    }
    const { tokens, roomId } = prepared;
    await probeSelfSigned(stack, tokens[0]!, roomId);
    await new Promise((r) => setTimeout(r, 1_100));
    progress(
      `offline stack (TOKEN_MODE=self-signed, IVS rates enforced): ${settings.selfSignedRequests} token requests`,
    );
    const before = tokenCalls(stack);
    const result = await load(stack, tokens, roomId, settings.selfSignedRequests);
    const costPerTokenUs = result.okPerSecond > 0 ? 1e6 / result.okPerSecond : Infinity;
    section.selfSigned = {
      mode: "self-signed",
      load: result,
      createParticipantTokenCalls: tokenCalls(stack) - before,
      es384SignMedianUs,
      costPerTokenUs,
      ratioToEs384: costPerTokenUs / es384SignMedianUs,
    };
  } catch (error) {
    if (error instanceof Unavailable) section.selfSignedUnavailable = error.message;
    else errors.push(`self-signed mode: ${(error as Error).message}`);
  } finally {
    await stack?.close();
  }

  section.bursts = await measureBursts(settings.burst, progress);
  return section;
}

/**
 * The overload contract's bursts (api mode, IVS's rates not enforced, TOKEN_RATE_PER_MINUTE = 30): `size`
 * concurrent token requests from one user (the limit is charged before IVS: at most 30 tokens and 30 IVS calls),
 * then `size` concurrent requests from as many users (every one a token). Each in its own minute, so that the one
 * user's limit is not split across two.
 */
export async function measureBursts(size: number, progress: (line: string) => void): Promise<BurstSection> {
  const section: BurstSection = { limit: BURST_TOKEN_LIMIT, errors: [] };
  progress(`offline stack (TOKEN_MODE=api, TOKEN_RATE_PER_MINUTE=${BURST_TOKEN_LIMIT}): starting for the bursts`);
  let stack: Stack | undefined;
  try {
    stack = await startBenchStack({
      port: 0,
      logLevel: "ERROR",
      enforceIvsRates: false,
      env: stackEnv("api", BURST_TOKEN_LIMIT),
    });
    const s = stack;
    const { tokens: crowd, roomId } = await prepare(s, size, "bench-crowd");
    const one = await call(s, "POST", "/dev/login", undefined, { username: "bench-burst" });
    if (one.status !== 200) throw new Error(`/dev/login answered ${one.status}`);
    const burst = async (tokens: string[]): Promise<BurstResult> => {
      // Within one minute: wait out a minute that is nearly over.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
      const before = tokenCalls(s);
      const load = await runLoad({
        url: s.url,
        method: "POST",
        path: `/rooms/${roomId}/token`,
        tokens,
        requests: size,
        concurrency: size,
        timeoutMs: 60_000,
      });
      const calls = tokenCalls(s) - before;
      const ok = Object.entries(load.statuses)
        .filter(([k]) => k.startsWith("2"))
        .reduce((n, [, c]) => n + c, 0);
      const fiveXx = Object.entries(load.statuses)
        .filter(([k]) => k.startsWith("5"))
        .reduce((n, [, c]) => n + c, 0);
      return {
        users: tokens.length,
        load,
        createParticipantTokenCalls: calls,
        callsPerToken: ok > 0 ? calls / ok : Infinity,
        fiveXx,
      };
    };
    progress(`bursts: ${size} concurrent token requests from one user`);
    section.oneUser = await burst([String(one.json.idToken)]);
    progress(`bursts: ${size} concurrent token requests from ${size} users`);
    section.manyUsers = await burst(crowd);
  } catch (error) {
    section.errors.push(`bursts: ${(error as Error).message}`);
  } finally {
    await stack?.close();
  }
  return section;
}

class Unavailable extends Error {}

/** One token in self-signed mode: 200, no IVS CreateParticipantToken call, an ES384 JWT that the emulator admits. */
async function probeSelfSigned(stack: Stack, token: string, roomId: string): Promise<void> {
  const before = tokenCalls(stack);
  const r = await call(stack, "POST", `/rooms/${roomId}/token`, token);
  if (r.status !== 200)
    throw new Unavailable(`a token request answered ${r.status} ${r.json?.type ?? r.text.slice(0, 160)}`);
  const calls = tokenCalls(stack) - before;
  if (calls > 0)
    throw new Unavailable(`the token path still called IVS CreateParticipantToken (${calls} call(s) for one token)`);
  let alg: unknown;
  try {
    alg = JSON.parse(Buffer.from(String(r.json.token).split(".")[0]!, "base64url").toString("utf8")).alg;
  } catch {
    alg = undefined;
  }
  if (alg !== "ES384") throw new Unavailable(`the token is not an ES384 JWT (alg ${String(alg)})`);
  const joined = await fetch(`${stack.ivs.url}/_emulator/join`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: r.json.token }),
  });
  if (joined.status !== 200)
    throw new Unavailable(`the IVS emulator refused the self-signed token's join (${joined.status})`);
}
