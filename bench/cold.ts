// Cold init: for every function and both builds, fresh Node processes that import the bundle and complete one
// first invocation against the HTTP stub. Runs alternate between functions and builds (so that machine noise hits
// both alike), one discarded run of each first warms the file cache.
import type { Fixtures } from "./fixtures.ts";
import { firstEventFor, functionEnvironment } from "./fixtures.ts";
import type { Bundle, BuildOutcome } from "./bundles.ts";
import type { ColdInput, ColdResult } from "./children/protocol.ts";
import { runChild } from "./processes.ts";
import type { AwsStub } from "./stub.ts";
import { median } from "./stats.ts";

export interface ColdVariant {
  bytes: number;
  format: "esm" | "cjs";
  note?: string;
  runs: number;
  /** Median of import + first invocation, the cold init figure. */
  medianMs: number;
  importMedianMs: number;
  firstInvokeMedianMs: number;
  /** Median from process start (Node's bootstrap included) to the first invocation's end. */
  fromProcessStartMedianMs: number;
  samplesMs: number[];
  failures: number;
  firstFailure?: string;
  /** Most JWKS fetches seen in one process (undefined for functions that verify no JWT). */
  maxJwksFetches?: number;
  /** Every run had the JWKS fetched and cached before the import resolved (i.e. during init). */
  jwksHydratedAtInit?: boolean;
}

export interface ColdFunction {
  logicalId: string;
  /** Which build of the function (e.g. the token function's AWS SDK reference); the logical id when not given. */
  label: string;
  firstInvocation: string;
  optimised: ColdVariant | { error: string };
  samDefault: ColdVariant | { error: string };
  /** Minified bytes of each build (also for functions whose cold init is not measured). */
  bytes?: number;
  samDefaultBytes?: number;
  /** optimised median ÷ SAM-default median (lower is better). */
  ratio?: number;
  bundleRatio?: number;
  /** What the optimised bundle is made of, largest first (bytes in the output per package or project folder). */
  composition?: Array<{ source: string; bytes: number }>;
}

interface Run {
  result: ColdResult;
  jwksFetches: number;
  jwksServedAt: number[];
}

export async function measureColdInit(opts: {
  functions: Array<{ logicalId: string; label?: string; optimised: BuildOutcome; samDefault?: BuildOutcome }>;
  fx: Fixtures;
  stub: AwsStub;
  runs: number;
  script: string;
  logFd: number;
  progress: (line: string) => void;
}): Promise<ColdFunction[]> {
  const env = functionEnvironment(opts.fx, opts.stub.urls);
  const plan = opts.functions.map((fn) => ({
    ...fn,
    label: fn.label ?? fn.logicalId,
    samDefault: fn.samDefault ?? ({ ok: false, error: "not measured" } as BuildOutcome),
    first: firstEventFor(fn.logicalId, opts.fx),
  }));
  const runs = new Map<string, Run[]>();
  const once = async (logicalId: string, variant: "optimised" | "samDefault", bundle: Bundle, event: unknown) => {
    opts.stub.reset();
    const input: ColdInput = {
      bundle: { path: bundle.path, exportName: bundle.exportName, format: bundle.format },
      event,
    };
    const result = await runChild<ColdResult>(
      opts.script,
      input,
      { ...env, AWS_LAMBDA_FUNCTION_NAME: logicalId },
      opts.logFd,
    );
    return { result, jwksFetches: opts.stub.counts().calls["jwks:GET"] ?? 0, jwksServedAt: opts.stub.jwksServedAt() };
  };

  for (let round = 0; round <= opts.runs; round++) {
    for (const fn of plan) {
      if (!fn.first) continue;
      const variants = (["optimised", "samDefault"] as const).filter((v) => fn[v].ok);
      // Alternate which build goes first.
      if (round % 2 === 1) variants.reverse();
      for (const variant of variants) {
        const outcome = fn[variant];
        if (!outcome.ok) continue;
        const run = await once(fn.logicalId, variant, outcome.bundle, fn.first.event);
        if (round === 0) continue; // file-cache warm-up, discarded
        const key = `${fn.label}:${variant}`;
        runs.set(key, [...(runs.get(key) ?? []), run]);
      }
    }
    if (round > 0) opts.progress(`cold init: round ${round}/${opts.runs}`);
  }

  return plan.map((fn) => {
    const summarise = (variant: "optimised" | "samDefault"): ColdVariant | { error: string } => {
      const outcome = fn[variant];
      if (!outcome.ok) return { error: outcome.error };
      if (!fn.first)
        return { error: `cold init not measured: the bench defines no typical first invocation for ${fn.logicalId}` };
      const list = runs.get(`${fn.label}:${variant}`) ?? [];
      const failed = list.filter((r) => r.result.invocation.status < 200 || r.result.invocation.status >= 300);
      const samples = list.map((r) => r.result.importMs + r.result.firstInvokeMs);
      const verifiesJwt = list.some((r) => r.jwksFetches > 0);
      return {
        bytes: outcome.bundle.bytes,
        format: outcome.bundle.format,
        ...(outcome.bundle.note ? { note: outcome.bundle.note } : {}),
        runs: list.length,
        medianMs: median(samples),
        importMedianMs: median(list.map((r) => r.result.importMs)),
        firstInvokeMedianMs: median(list.map((r) => r.result.firstInvokeMs)),
        fromProcessStartMedianMs: median(list.map((r) => r.result.bootMs + r.result.importMs + r.result.firstInvokeMs)),
        samplesMs: samples.map((s) => Number(s.toFixed(2))),
        failures: failed.length,
        ...(failed[0]
          ? { firstFailure: `${failed[0].result.invocation.status} ${failed[0].result.invocation.detail ?? ""}`.trim() }
          : {}),
        ...(verifiesJwt
          ? {
              maxJwksFetches: Math.max(...list.map((r) => r.jwksFetches)),
              jwksHydratedAtInit: list.every(
                (r) => r.jwksFetches === 1 && r.jwksServedAt[0]! <= r.result.importEndEpoch,
              ),
            }
          : {}),
      };
    };
    const optimised = summarise("optimised");
    const samDefault = summarise("samDefault");
    const both = "medianMs" in optimised && "medianMs" in samDefault;
    return {
      logicalId: fn.logicalId,
      label: fn.label,
      firstInvocation: fn.first?.what ?? "none",
      optimised,
      samDefault,
      ...(fn.optimised.ok ? { bytes: fn.optimised.bundle.bytes } : {}),
      ...(fn.samDefault.ok ? { samDefaultBytes: fn.samDefault.bundle.bytes } : {}),
      ...(fn.optimised.ok && fn.samDefault.ok
        ? { bundleRatio: fn.optimised.bundle.bytes / fn.samDefault.bundle.bytes }
        : {}),
      ...(both ? { ratio: optimised.medianMs / samDefault.medianMs } : {}),
      ...(fn.optimised.ok ? { composition: fn.optimised.bundle.composition.slice(0, 25) } : {}),
    };
  });
}
