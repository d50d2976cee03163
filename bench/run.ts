// `npm run bench`: every performance figure of issue 7 (and the token-mode throughput of issue 9) measured in one
// run, printed as tables and JSON, written to bench/results/latest.json, each target judged PASS/FAIL from the
// ratios of this same run. See docs/performance.md.
//
//   npm run bench [-- --cold-runs 15 --warm-requests 5000 --requests 3000 --concurrency 50
//                     --api-rate-requests 3000 --self-signed-requests 3000 --burst 500 --only cold,warm,stack --strict]
// --strict exits 1 when a target FAILs (the default only reports).
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { functionsOf, loadTemplate, projectRoot } from "../local/template.ts";
import { benchBuildRoot, buildOptimised, buildSamDefault, SDK_REFERENCE_LABEL, type BuildOutcome } from "./bundles.ts";
import { measureColdInit, type ColdFunction } from "./cold.ts";
import { createFixtures, stubDataOf } from "./fixtures.ts";
import { compileChildren } from "./processes.ts";
import { judge, render, TARGETS } from "./report.ts";
import { callsPerToken, measureStackThroughput, type BurstResult, type StackSection } from "./stack.ts";
import { startAwsStub } from "./stub.ts";
import { throwawayTls } from "./tls.ts";
import { measureWarm, type WarmSection } from "./warm.ts";

const { values: args } = parseArgs({
  options: {
    "cold-runs": { type: "string", default: "15" },
    "warm-requests": { type: "string", default: "5000" },
    requests: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "50" },
    "api-rate-requests": { type: "string", default: "3000" },
    "self-signed-requests": { type: "string", default: "3000" },
    burst: { type: "string", default: "500" },
    only: { type: "string", default: "cold,warm,stack" },
    strict: { type: "boolean", default: false },
    out: { type: "string", default: join(projectRoot, "bench", "results", "latest.json") },
  },
});

const positive = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${value}`);
  return n;
};
const settings = {
  coldRuns: positive("cold-runs", args["cold-runs"]),
  warmRequests: positive("warm-requests", args["warm-requests"]),
  requests: positive("requests", args.requests),
  concurrency: positive("concurrency", args.concurrency),
  apiRateRequests: positive("api-rate-requests", args["api-rate-requests"]),
  selfSignedRequests: positive("self-signed-requests", args["self-signed-requests"]),
  burst: positive("burst", args.burst),
};
const sections = new Set(
  String(args.only)
    .split(",")
    .map((s) => s.trim()),
);
for (const s of sections)
  if (!["cold", "warm", "stack"].includes(s)) throw new Error(`--only takes cold, warm and stack, not ${s}`);

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const progress = (line: string) => process.stderr.write(`[bench ${elapsed()}] ${line}\n`);
const machine = {
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  memoryGb: Number((totalmem() / 2 ** 30).toFixed(1)),
  loadAverageAtStart: loadavg(),
};

mkdirSync(join(projectRoot, "bench", "results"), { recursive: true });
const logPath = join(projectRoot, "bench", "results", "functions.log");
const logFd = openSync(logPath, "w");

const tlsSetup = throwawayTls(join(benchBuildRoot, "tls"));
const fx = createFixtures(tlsSetup.tls);
if (tlsSetup.note) progress(tlsSetup.note);
const stub = await startAwsStub(stubDataOf(fx));
let cold: ColdFunction[] | undefined;
let warm: WarmSection | undefined;
let stack: StackSection | undefined;
const sectionErrors: string[] = [];

try {
  const needsBundles = sections.has("cold") || sections.has("warm");
  const definitions = functionsOf(loadTemplate());
  const builds: Array<{ logicalId: string; label?: string; optimised: BuildOutcome; samDefault: BuildOutcome }> = [];
  let scripts: Awaited<ReturnType<typeof compileChildren>> | undefined;
  if (needsBundles) {
    progress(
      `building ${definitions.length} functions twice (template BuildProperties, SAM defaults) into ${benchBuildRoot}`,
    );
    scripts = await compileChildren();
    for (const fn of definitions) {
      const optimised = await buildOptimised(fn);
      const exportName = optimised.ok ? optimised.bundle.exportName : fn.handler.slice(fn.handler.lastIndexOf(".") + 1);
      builds.push({ logicalId: fn.logicalId, optimised, samDefault: await buildSamDefault(fn, exportName) });
      if (fn.logicalId === "TokenFunction") {
        // The fixed yardstick: the same function written with the AWS SDK (bench/reference/token-sdk/index.ts).
        const reference = { ...fn, logicalId: "TokenSdkReference", entryPoint: "bench/reference/token-sdk/index.ts" };
        builds.push({
          logicalId: fn.logicalId,
          label: SDK_REFERENCE_LABEL,
          optimised: await buildOptimised(reference),
          samDefault: await buildSamDefault(reference, exportName),
        });
      }
    }
  }

  if (sections.has("cold") && scripts) {
    progress(`cold init: ${settings.coldRuns} fresh processes per function and build (+1 discarded)`);
    try {
      cold = await measureColdInit({
        functions: builds,
        fx,
        stub,
        runs: settings.coldRuns,
        script: scripts.cold,
        logFd,
        progress,
      });
    } catch (error) {
      sectionErrors.push(`cold init: ${(error as Error).message}`);
    }
  }

  if (sections.has("warm") && scripts) {
    const token = builds.find((b) => b.logicalId === "TokenFunction" && !b.label)?.optimised;
    if (token?.ok) {
      try {
        warm = await measureWarm({
          bundle: token.bundle,
          fx,
          stub,
          requests: settings.warmRequests,
          script: scripts.warm,
          logFd,
          progress,
        });
      } catch (error) {
        sectionErrors.push(`warm cost: ${(error as Error).message}`);
      }
    } else {
      sectionErrors.push(
        `warm cost: the token function did not build: ${token && !token.ok ? token.error : "not in the template"}`,
      );
    }
  }
} finally {
  await stub.close();
  closeSync(logFd);
}

if (sections.has("stack")) {
  try {
    stack = await measureStackThroughput(settings, progress);
  } catch (error) {
    sectionErrors.push(`offline stack: ${(error as Error).message}`);
  }
}

// The functions' own log lines (INFO, as deployed) must never carry the JWT or a participant token.
const logs = readFileSync(logPath, "utf8");
const secrets = [fx.jwt, fx.jwt.split(".")[2]!, "YmVuY2gtc2lnbmF0dXJl"];
const leaked = secrets.filter((s) => logs.includes(s));
const logsClean = {
  ok: leaked.length === 0,
  evidence: `${logs.split("\n").filter(Boolean).length} log lines checked${leaked.length ? `: ${leaked.length} secret(s) found` : ", none found"}`,
};

const targets = judge({ cold, warm, stack, settings, logsClean });
const summary = {
  generatedAt: new Date().toISOString(),
  durationSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  machine: { ...machine, loadAverageAtEnd: loadavg() },
  settings,
  stubTransport: tlsSetup.tls
    ? "https with a throwaway certificate (the SDK's and aws-jwt-verify's https paths, as in AWS)"
    : tlsSetup.note,
  targets,
  bundles: cold?.map((f) => ({
    function: f.label,
    bytes: f.bytes ?? null,
    samDefaultBytes: f.samDefaultBytes ?? null,
  })),
  coldInit: cold?.map((f) => ({
    function: f.label,
    firstInvocation: f.firstInvocation,
    medianMs: "medianMs" in f.optimised ? round(f.optimised.medianMs) : null,
    samDefaultMedianMs: "medianMs" in f.samDefault ? round(f.samDefault.medianMs) : null,
    ratio: f.ratio !== undefined ? round(f.ratio, 3) : null,
    runs: "runs" in f.optimised ? f.optimised.runs : 0,
  })),
  tokenWarm:
    warm &&
    Object.fromEntries(
      (["inProcess", "loopback"] as const).flatMap((k) => {
        const v = warm?.[k];
        return v
          ? [
              [
                k,
                {
                  medianUs: round(v.handler.medianUs),
                  p99Us: round(v.handler.p99Us),
                  requests: v.handler.n,
                  rs256FloorMedianUs: round(v.rs256Verify.medianUs),
                  ratio: round(v.ratio, 2),
                },
              ],
            ]
          : [];
      }),
    ),
  offlineStack: stack && {
    unthrottled: stack.unthrottled && pickLoad(stack.unthrottled),
    apiWithIvsRates: stack.apiWithRates && {
      ...pickLoad(stack.apiWithRates.load),
      createParticipantTokenCalls: stack.apiWithRates.createParticipantTokenCalls,
      callsPerToken: round(callsPerToken(stack.apiWithRates), 2),
    },
    bursts: stack.bursts && {
      tokenRatePerMinute: stack.bursts.limit,
      oneUser: stack.bursts.oneUser && pickBurst(stack.bursts.oneUser),
      manyUsers: stack.bursts.manyUsers && pickBurst(stack.bursts.manyUsers),
      errors: stack.bursts.errors,
    },
    selfSignedWithIvsRates: stack.selfSigned
      ? { ...pickLoad(stack.selfSigned.load), ratioToEs384: round(stack.selfSigned.ratioToEs384, 2) }
      : `self-signed mode unavailable: ${stack.selfSignedUnavailable ?? stack.errors.join("; ")}`,
    es384SignMedianUs: round(stack.es384SignMedianUs),
  },
  errors: [
    ...sectionErrors,
    ...(warm?.errors ?? []).map((e) => `warm ${e}`),
    ...(stack?.errors ?? []),
    ...(stack?.bursts?.errors ?? []),
  ],
};

const outPath = String(args.out);
writeFileSync(
  outPath,
  `${JSON.stringify({ summary, detail: { cold, warm, stack }, targetsDefinition: TARGETS }, null, 2)}\n`,
);

console.log(render({ cold, warm, stack, targets }));
for (const e of sectionErrors) console.log(`! ${e}`);
console.log("\n## JSON summary\n");
console.log(JSON.stringify(summary, null, 2));
console.log(`\nFull results: ${outPath}; function logs: ${logPath}; ${elapsed().trim()} in all.`);
if (args.strict && targets.some((t) => t.verdict === "FAIL")) process.exitCode = 1;

function round(n: number, digits = 1): number {
  return Number(n.toFixed(digits));
}

function pickBurst(b: BurstResult) {
  return {
    users: b.users,
    requests: b.load.requests,
    statuses: b.load.statuses,
    transportErrors: b.load.errors,
    fiveXx: b.fiveXx,
    createParticipantTokenCalls: b.createParticipantTokenCalls,
    callsPerToken: round(b.callsPerToken, 2),
  };
}

function pickLoad(l: NonNullable<StackSection["unthrottled"]>) {
  return {
    requests: l.requests,
    concurrency: l.concurrency,
    requestsPerSecond: round(l.requestsPerSecond),
    okPerSecond: round(l.okPerSecond),
    p50Ms: round(l.p50Ms, 2),
    p99Ms: round(l.p99Ms, 2),
    non2xx: l.non2xx,
    errors: l.errors,
    statuses: l.statuses,
  };
}
