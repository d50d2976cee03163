// Evidence for the optimisation proposals (not part of `npm run bench`):
//
//   npx tsx bench/what-if.ts [--runs 15] [--warm-requests 3000]
//
// The token function rebuilt with one more change at a time (sources patched in memory during the build; the
// repository is not touched), each measured exactly as `npm run bench` measures it: bundle bytes, cold init (fresh
// processes, interleaved, median of import + first invocation against the HTTP stub) beside the SAM-default
// baseline, and the in-process warm cost. A change whose pattern is no longer in the code is reported, not applied.
import { build, type Plugin } from "esbuild";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { esbuildOptionsFor, splitHandler } from "../local/build.ts";
import { functionsOf, loadTemplate, projectRoot, type FunctionDefinition } from "../local/template.ts";
import { benchBuildRoot, buildSamDefault, composition, type BuildOutcome } from "./bundles.ts";
import { measureColdInit } from "./cold.ts";
import { createFixtures, stubDataOf } from "./fixtures.ts";
import { compileChildren } from "./processes.ts";
import { startAwsStub } from "./stub.ts";
import { throwawayTls } from "./tls.ts";
import { measureWarm } from "./warm.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "15" }, "warm-requests": { type: "string", default: "3000" } } });
const runs = Number(args.runs);
const warmRequests = Number(args["warm-requests"]);

interface Patch {
  file: string;
  apply(source: string): string;
}

interface Change {
  id: string;
  what: string;
  patches?: Patch[];
  external?: string[];
}

const MINIMAL_LOGGER = `// What-if: Powertools' call shape (logger.debug/info/warn/error(message, extra)), one JSON line per entry.
const LEVELS = { DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20 } as const;
type Level = keyof typeof LEVELS;
const threshold = LEVELS[(process.env.POWERTOOLS_LOG_LEVEL ?? "INFO").toUpperCase() as Level] ?? LEVELS.INFO;
const service = process.env.POWERTOOLS_SERVICE_NAME ?? "stagepass";
const plain = (value: unknown): unknown => value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
const write = (level: Level, message: string, extra: Record<string, unknown> = {}) => {
  if (LEVELS[level] < threshold) return;
  const entry: Record<string, unknown> = { level, message, timestamp: new Date().toISOString(), service };
  for (const [k, v] of Object.entries(extra)) entry[k] = plain(v);
  process.stdout.write(JSON.stringify(entry) + "\\n");
};
export const logger = {
  debug: (m: string, e?: Record<string, unknown>) => write("DEBUG", m, e),
  info: (m: string, e?: Record<string, unknown>) => write("INFO", m, e),
  warn: (m: string, e?: Record<string, unknown>) => write("WARN", m, e),
  error: (m: string, e?: Record<string, unknown>) => write("ERROR", m, e),
};
`;

const CHANGES: Change[] = [
  {
    id: "jwks-hydration",
    what: "shared/auth/authenticator.ts: verifier.cacheJwks(jwks) instead of cacheJwks(jwks, <issuer URL>) twice (its 2nd argument is a user pool id; the URL throws, the .catch hides it, and verify() fetches the JWKS again on the first request)",
    patches: [{
      file: "shared/auth/authenticator.ts",
      apply: (source) => replaceOnce(source, /verifier\.cacheJwks\(jwks, regionIssuer\);\s*\n\s*verifier\.cacheJwks\(jwks, regionIssuer\.replace\([^\n]*\);/, "verifier.cacheJwks(jwks);"),
    }],
  },
  {
    id: "external-credential-providers",
    what: "template BuildProperties External: the credential providers the SDK reaches only by dynamic import() after the environment provider (Lambda always sets AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN)",
    external: [
      "@aws-sdk/credential-provider-ini", "@aws-sdk/credential-provider-sso", "@aws-sdk/credential-provider-process",
      "@aws-sdk/credential-provider-web-identity", "@aws-sdk/credential-provider-http", "@smithy/credential-provider-imds",
    ],
  },
  {
    id: "minimal-logger",
    what: "shared/logger.ts: a 20-line JSON logger with the same calls instead of @aws-lambda-powertools/logger",
    patches: [{
      file: "shared/logger.ts",
      apply: (source) => {
        if (!source.includes("@aws-lambda-powertools/logger")) throw new Error("shared/logger.ts no longer uses Powertools");
        return MINIMAL_LOGGER;
      },
    }],
  },
  {
    id: "lazy-issuer",
    what: "functions/token/index.ts: import() the issuer of the configured TOKEN_MODE inside createIssuer, so that the other mode's modules (IVS client or Secrets Manager client and signer) are bundled but never evaluated",
    patches: [{
      file: "functions/token/index.ts",
      apply: (source) => [
        [/^import \{ createIvsClient \} from "#shared\/aws\/ivs\.ts";\n/m, ""],
        [/^import \{ ivsTokenIssuer, type TokenIssuer \} from "\.\/issuers\.ts";$/m, 'import type { TokenIssuer } from "./issuers.ts";'],
        [/^import \{ selfSignedTokenIssuer \} from "\.\/self-signed-issuer\.ts";\n/m, ""],
        [/return ivsTokenIssuer\(createIvsClient\(\)\);/, 'return (await import("./issuers.ts")).ivsTokenIssuer((await import("#shared/aws/ivs.ts")).createIvsClient());'],
        [/return selfSignedTokenIssuer\(config\.signingKeySecretId\);/, 'return (await import("./self-signed-issuer.ts")).selfSignedTokenIssuer(config.signingKeySecretId);'],
      ].reduce((src, [pattern, replacement]) => replaceOnce(src, pattern as RegExp, replacement as string), source),
    }],
  },
  {
    id: "no-middy",
    what: "shared/http/handler.ts: return the dispatch function itself instead of middy().handler(dispatch) (no middleware is attached)",
    patches: [{
      file: "shared/http/handler.ts",
      apply: (source) => replaceOnce(
        replaceOnce(source, /^import middy from "@middy\/core";$/m, 'import type middy from "@middy/core";'),
        /return middy<Event, Result>\(\)\.handler\(dispatch\);/, "return dispatch as unknown as middy.MiddyfiedHandler<Event, Result>;",
      ),
    }],
  },
];

function replaceOnce(source: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(source)) throw new Error(`pattern ${pattern} not found (already changed?)`);
  return source.replace(pattern, replacement);
}

async function buildVariant(fn: FunctionDefinition, id: string, changes: Change[]): Promise<BuildOutcome> {
  const patches = new Map<string, Patch[]>();
  for (const p of changes.flatMap((c) => c.patches ?? [])) patches.set(resolve(projectRoot, p.file), [...(patches.get(resolve(projectRoot, p.file)) ?? []), p]);
  const plugin: Plugin = {
    name: "what-if-patches",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (a) => {
        const list = patches.get(resolve(a.path));
        if (!list) return undefined;
        return { contents: list.reduce((src, p) => p.apply(src), readFileSync(a.path, "utf8")), loader: "ts" };
      });
    },
  };
  const outdir = join(benchBuildRoot, "what-if", id);
  const options = esbuildOptionsFor(fn, outdir);
  try {
    const result = await build({ ...options, external: [...(options.external ?? []), ...changes.flatMap((c) => c.external ?? [])], plugins: [plugin], logLevel: "silent" });
    const [file, output] = Object.entries(result.metafile!.outputs).find(([, o]) => o.entryPoint)!;
    const path = resolve(projectRoot, file);
    return { ok: true, bundle: { path, exportName: splitHandler(fn.handler)[1], format: "esm", bytes: output.bytes, composition: composition(result.metafile!, path) } };
  } catch (error) {
    return { ok: false, error: (error as { errors?: Array<{ text: string }> }).errors?.[0]?.text ?? (error as Error).message };
  }
}

// Probes that hold only one part of the token path, built with the token function's options, to apportion its
// cold init: the AWS SDK clients and the three calls; the JWT verifier hydrated at init and one verify.
const SDK_PROBE = `
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { CreateParticipantTokenCommand, IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 2500 } }), { marshallOptions: { removeUndefinedValues: true } });
const ivs = new IVSRealTimeClient({ maxAttempts: 1, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } });
const T = process.env.TABLE_NAME;
export const handler = async () => {
  await doc.send(new BatchGetCommand({ RequestItems: { [T]: { Keys: [{ pk: "ROOM#BenchRoom001", sk: "ROOM" }, { pk: "ROOM#BenchRoom001", sk: "BAN#u" }], ConsistentRead: true } } }));
  const out = await ivs.send(new CreateParticipantTokenCommand({ stageArn: "arn:aws:ivs:us-east-1:123456789012:stage/BenchRoom001", userId: "u", capabilities: ["SUBSCRIBE"], duration: 60, attributes: { role: "viewer" } }));
  await doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: T, Item: { pk: "ROOM#BenchRoom001", sk: "PID#" + out.participantToken.participantId } } }] }));
  return { statusCode: 200 };
};`;
const JWT_PROBE = `
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { SimpleFetcher } from "aws-jwt-verify/https";
const poolId = process.env.USER_POOL_ID;
const verifier = CognitoJwtVerifier.create({ userPoolId: poolId, tokenUse: "id", clientId: process.env.USER_POOL_CLIENT_IDS });
const body = await new SimpleFetcher().fetch(process.env.JWKS_URI);
verifier.cacheJwks(JSON.parse(new TextDecoder().decode(body)));
export const handler = async (event) => {
  await verifier.verify(event.headers.authorization.slice(7));
  return { statusCode: 200 };
};`;

// The same three calls without the AWS SDK: SigV4 (node:crypto, signing key cached per day) and JSON over a
// keep-alive agent. A prototype to size what the SDK costs; its signatures are not checked by the stub.
const MINIMAL_CLIENT_PROBE = `
import { createHash, createHmac } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
const region = process.env.AWS_REGION ?? "us-east-1";
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");
const keys = new Map<string, Buffer>();
function signingKey(date: string, service: string): Buffer {
  const id = date + service;
  let key = keys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac("AWS4" + process.env.AWS_SECRET_ACCESS_KEY, date), region), service), "aws4_request");
    keys.set(id, key);
  }
  return key;
}
function client(service: string, endpoint: string) {
  const url = new URL(endpoint);
  const web = url.protocol === "https:" ? https : http;
  const agent = new web.Agent({ keepAlive: true, maxSockets: 50 });
  return (path: string, extra: Record<string, string>, payload: unknown) => new Promise<any>((resolve, reject) => {
    const body = JSON.stringify(payload);
    const amzDate = new Date().toISOString().replace(/[:-]|[.][0-9]{3}/g, "");
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = { host: url.host, "x-amz-date": amzDate, ...extra };
    if (process.env.AWS_SESSION_TOKEN) headers["x-amz-security-token"] = process.env.AWS_SESSION_TOKEN;
    const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
    const canonical = ["POST", path, "", names.map((n) => n + ":" + headers[n]!.trim()).join("\\n") + "\\n", names.join(";"), sha256(body)].join("\\n");
    const scope = date + "/" + region + "/" + service + "/aws4_request";
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\\n");
    const signature = createHmac("sha256", signingKey(date, service)).update(toSign).digest("hex");
    headers.authorization = "AWS4-HMAC-SHA256 Credential=" + process.env.AWS_ACCESS_KEY_ID + "/" + scope + ", SignedHeaders=" + names.join(";") + ", Signature=" + signature;
    headers["content-length"] = String(Buffer.byteLength(body));
    const req = web.request({ agent, host: url.hostname, port: url.port, method: "POST", path, headers, timeout: 2500 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if ((res.statusCode ?? 500) >= 300) reject(new Error(service + " " + res.statusCode + " " + text.slice(0, 200)));
        else resolve(text ? JSON.parse(text) : {});
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}
const dynamo = client("dynamodb", process.env.AWS_ENDPOINT_URL_DYNAMODB ?? "https://dynamodb." + region + ".amazonaws.com");
const ivs = client("ivs", process.env.AWS_ENDPOINT_URL_IVS_REALTIME ?? "https://ivsrealtime." + region + ".amazonaws.com");
const T = process.env.TABLE_NAME!;
const ddb = (op: string, payload: unknown) => dynamo("/", { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810." + op }, payload);
export const handler = async () => {
  await ddb("BatchGetItem", { RequestItems: { [T]: { Keys: [{ pk: { S: "ROOM#BenchRoom001" }, sk: { S: "ROOM" } }, { pk: { S: "ROOM#BenchRoom001" }, sk: { S: "BAN#u" } }], ConsistentRead: true } } });
  const out = await ivs("/CreateParticipantToken", { "content-type": "application/json" }, { stageArn: "arn:aws:ivs:us-east-1:123456789012:stage/BenchRoom001", userId: "u", capabilities: ["SUBSCRIBE"], duration: 60, attributes: { role: "viewer" } });
  await ddb("TransactWriteItems", { TransactItems: [{ Put: { TableName: T, Item: { pk: { S: "ROOM#BenchRoom001" }, sk: { S: "PID#" + out.participantToken.participantId } } } }] });
  return { statusCode: 200 };
};`;

async function buildProbe(fn: FunctionDefinition, id: string, contents: string): Promise<BuildOutcome> {
  const options = esbuildOptionsFor(fn, join(benchBuildRoot, "what-if", id));
  try {
    const { entryPoints: _e, ...rest } = options;
    const result = await build({ ...rest, stdin: { contents, loader: "ts", resolveDir: projectRoot, sourcefile: `${id}.ts` }, logLevel: "silent" });
    const [file, output] = Object.entries(result.metafile!.outputs).find(([, o]) => o.entryPoint)!;
    const path = resolve(projectRoot, file);
    return { ok: true, bundle: { path, exportName: "handler", format: "esm", bytes: output.bytes, composition: composition(result.metafile!, path) } };
  } catch (error) {
    return { ok: false, error: (error as { errors?: Array<{ text: string }> }).errors?.[0]?.text ?? (error as Error).message };
  }
}

const progress = (line: string) => process.stderr.write(`[what-if] ${line}\n`);
const fn = functionsOf(loadTemplate()).find((f) => f.logicalId === "TokenFunction")!;
const variants: Array<{ id: string; what: string; outcome: BuildOutcome }> = [
  { id: "deployed", what: "as template.yaml builds it today", outcome: await buildVariant(fn, "deployed", []) },
];
for (let i = 0; i < CHANGES.length; i++) {
  const applied = CHANGES.slice(0, i + 1);
  variants.push({ id: `+${CHANGES[i]!.id}`, what: CHANGES[i]!.what, outcome: await buildVariant(fn, `step-${i + 1}`, applied) });
}
const samDefault = await buildSamDefault(fn, splitHandler(fn.handler)[1]);
const probes = [
  { id: "probe: AWS SDK only", what: "the two SDK clients as shared/aws builds them, and BatchGetItem + CreateParticipantToken + TransactWriteItems", outcome: await buildProbe(fn, "probe-sdk", SDK_PROBE) },
  { id: "probe: same 3 calls, no SDK", what: "BatchGetItem + CreateParticipantToken + TransactWriteItems with a 60-line SigV4 + node:https client (prototype)", outcome: await buildProbe(fn, "probe-minimal", MINIMAL_CLIENT_PROBE) },
  { id: "probe: JWT verifier only", what: "aws-jwt-verify's Cognito verifier, JWKS fetched (https) and cached at init, one verify", outcome: await buildProbe(fn, "probe-jwt", JWT_PROBE) },
];

const tls = throwawayTls(join(benchBuildRoot, "tls")).tls;
const fx = createFixtures(tls);
const stub = await startAwsStub(stubDataOf(fx));
mkdirSync(join(projectRoot, "bench", "results"), { recursive: true });
const logPath = join(projectRoot, "bench", "results", "what-if.log");
const logFd = openSync(logPath, "w");
const scripts = await compileChildren();
try {
  progress(`cold init: ${runs} processes per variant`);
  const cold = await measureColdInit({
    functions: [...variants, ...probes].map((v, i) => ({ logicalId: fn.logicalId, label: v.id, optimised: v.outcome, ...(i === 0 ? { samDefault } : {}) })),
    fx, stub, runs, script: scripts.cold, logFd, progress,
  });
  const base = cold[0]?.samDefault && "medianMs" in cold[0].samDefault ? cold[0].samDefault : undefined;
  const rows: Array<Record<string, unknown>> = [];
  for (const [i, v] of [...variants, ...probes].entries()) {
    const c = cold[i]!;
    const o = "medianMs" in c.optimised ? c.optimised : undefined;
    let warmUs: number | undefined;
    let warmRatio: number | undefined;
    if (v.outcome.ok && warmRequests > 0 && v.id !== "probe: JWT verifier only") {
      progress(`warm cost of ${v.id}`);
      const w = await measureWarm({ bundle: v.outcome.bundle, fx, stub, requests: warmRequests, script: scripts.warm, logFd, progress, transports: ["memory"] });
      warmUs = w.inProcess?.handler.medianUs;
      warmRatio = w.inProcess?.ratio;
    }
    rows.push({
      variant: v.id,
      change: v.what,
      bytes: v.outcome.ok ? v.outcome.bundle.bytes : null,
      error: v.outcome.ok ? undefined : v.outcome.error,
      coldInitMs: o?.medianMs ?? null,
      importMs: o?.importMedianMs ?? null,
      firstInvokeMs: o?.firstInvokeMedianMs ?? null,
      ratioToSamDefault: o && base ? o.medianMs / base.medianMs : null,
      maxJwksFetches: o?.maxJwksFetches ?? null,
      jwksHydratedAtInit: o?.jwksHydratedAtInit ?? null,
      failures: o?.failures ?? null,
      warmMedianUs: warmUs ?? null,
      warmRatioToRs256: warmRatio ?? null,
    });
  }
  const f = (n: unknown, d = 1) => (typeof n === "number" ? n.toFixed(d) : "—");
  console.log(`SAM-default baseline: ${base ? `${f(base.medianMs)} ms, ${samDefault.ok ? samDefault.bundle.bytes : "?"} bytes` : "unavailable"}\n`);
  console.log("| variant (cumulative) | bundle bytes | cold init ms (import + 1st) | × SAM-default | JWKS fetches / at init | warm µs | warm × RS256 |");
  console.log("|---|--:|--:|--:|---|--:|--:|");
  for (const r of rows) {
    console.log(`| ${r.variant} | ${r.bytes ?? `error: ${r.error}`} | ${f(r.coldInitMs)} (${f(r.importMs)} + ${f(r.firstInvokeMs)}) | ${f(r.ratioToSamDefault, 2)} | ${r.maxJwksFetches ?? "—"} / ${r.jwksHydratedAtInit ?? "—"} | ${f(r.warmMedianUs)} | ${f(r.warmRatioToRs256, 1)} |`);
  }
  for (const r of rows) console.log(`- ${r.variant}: ${r.change}`);
  const out = join(projectRoot, "bench", "results", "what-if.json");
  writeFileSync(out, `${JSON.stringify({ generatedAt: new Date().toISOString(), runs, warmRequests, samDefault: base ?? null, rows, cold }, null, 2)}\n`);
  console.log(`\n${out}`);
} finally {
  closeSync(logFd);
  await stub.close();
}
