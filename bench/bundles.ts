// The two builds of every function that the bench compares:
//  - "optimised": exactly what deploys, local/build.ts with the template's BuildProperties (esm, node22, main
//    fields module-first, minified);
//  - "sam-default": the same entry point bundled with the flags `sam build` passes to esbuild when BuildProperties
//    set none of them (aws-lambda-builders, workflows/nodejs_npm_esbuild/esbuild.py, build_default_values:
//    --bundle --platform=node --target=es2020 --format=cjs --minify; no --main-fields, so esbuild's node default
//    main,module picks the packages' CommonJS builds).
// SAM's defaults cannot build an entry with top-level await at all (esbuild: "Top-level await is not available in
// the configured target environment (es2020)" / "...not supported with the cjs output format"). The baseline
// therefore gives the entry its usual CommonJS form (withoutTopLevelAwait): the module-level init runs in a promise
// started at load, which the handler awaits before its first call; nothing else in the source changes. An entry
// this cannot rewrite makes the baseline unavailable for that function, and the bench says so.
import { build, type Metafile, type Plugin } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildFunction } from "../local/build.ts";
import { projectRoot, type FunctionDefinition } from "../local/template.ts";

export const benchBuildRoot = join(projectRoot, ".build", "bench");

/** The label of the token function's AWS SDK reference build (bench/reference/token-sdk/index.ts) in the cold-init runs. */
export const SDK_REFERENCE_LABEL = "TokenFunction, AWS SDK reference";

export interface Bundle {
  path: string;
  exportName: string;
  format: "esm" | "cjs";
  /** Minified bytes of the bundle that holds the handler. */
  bytes: number;
  /** Bytes in the output per npm package (or per project folder), largest first. */
  composition: Array<{ source: string; bytes: number }>;
  /** What had to change for it to build, if anything. */
  note?: string;
}

export type BuildOutcome = { ok: true; bundle: Bundle } | { ok: false; error: string };

export function composition(metafile: Metafile, outputPath?: string): Bundle["composition"] {
  const output =
    Object.entries(metafile.outputs).find(([file, o]) =>
      outputPath ? resolve(projectRoot, file) === outputPath : o.entryPoint,
    )?.[1] ?? Object.values(metafile.outputs).find((o) => o.entryPoint);
  const bySource = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const source = m
      ? m[1]!
      : path
          .split("/")
          .slice(0, path.startsWith("shared/") || path.startsWith("functions/") ? 2 : 1)
          .join("/");
    bySource.set(source, (bySource.get(source) ?? 0) + input.bytesInOutput);
  }
  return [...bySource].map(([source, bytes]) => ({ source, bytes })).sort((a, b) => b.bytes - a.bytes);
}

export async function buildOptimised(fn: FunctionDefinition): Promise<BuildOutcome> {
  try {
    const built = await buildFunction(fn, join(benchBuildRoot, "optimised"));
    return {
      ok: true,
      bundle: {
        path: built.bundlePath,
        exportName: built.exportName,
        format: built.bundlePath.endsWith(".mjs") || fn.buildProperties.Format === "esm" ? "esm" : "cjs",
        bytes: built.bytes,
        composition: composition(built.metafile, built.bundlePath),
      },
    };
  } catch (error) {
    return { ok: false, error: firstLine(error) };
  }
}

/**
 * The CommonJS form of an entry point with top-level await: everything after the imports runs in an async init
 * function started when the module loads, and the exported handler awaits it before its first call. The init work
 * starts at load time as before; what has not finished by the first invocation is waited for there.
 */
export function withoutTopLevelAwait(source: string, exportName: string): { source: string; moved: boolean } {
  if (!/^(?![\s/*])[^\n]*\bawait\b/m.test(source)) return { source, moved: false };
  const lines = source.split("\n");
  let lastImport = -1;
  for (let i = 0, inImport = false; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^import\s/.test(line)) inImport = true;
    if (inImport && /(from\s+["'][^"']+["']|^import\s+["'][^"']+["']);?\s*$/.test(line)) {
      inImport = false;
      lastImport = i;
    }
  }
  const head = lines.slice(0, lastImport + 1).join("\n");
  let body = lines.slice(lastImport + 1).join("\n");
  const declaration = new RegExp(`^export const ${exportName}\\b`, "m");
  if (!declaration.test(body)) throw new Error(`cannot find "export const ${exportName}" to wrap`);
  body = body.replace(declaration, `const ${exportName}`);
  if (/^export\s/m.test(body))
    throw new Error("the entry point exports more than its handler; cannot move its init into the handler");
  const wrapped = `${head}
const __benchInit = (async () => {
${body}
return ${exportName};
})();
__benchInit.catch(() => undefined);
export const ${exportName} = async (event: any, context: any) => (await __benchInit)(event, context);
`;
  return { source: wrapped, moved: true };
}

export async function buildSamDefault(fn: FunctionDefinition, exportName: string): Promise<BuildOutcome> {
  const entry = resolve(projectRoot, fn.entryPoint);
  const outdir = join(benchBuildRoot, "sam-default", fn.logicalId);
  let moved = false;
  const moveInitAwait: Plugin = {
    name: "move-top-level-await-into-handler",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (resolve(args.path) !== entry) return undefined;
        const result = withoutTopLevelAwait(readFileSync(args.path, "utf8"), exportName);
        moved = result.moved;
        return { contents: result.source, loader: "ts", resolveDir: join(entry, "..") };
      });
    },
  };
  try {
    const result = await build({
      absWorkingDir: projectRoot,
      entryPoints: [fn.entryPoint],
      outdir,
      // SAM's defaults (build_default_values) and nothing else.
      bundle: true,
      platform: "node",
      target: "es2020",
      format: "cjs",
      minify: true,
      metafile: true,
      logLevel: "silent",
      plugins: [moveInitAwait],
    });
    // A SAM artifact has no package.json with "type": "module", so Lambda loads index.js as CommonJS; this one
    // sits inside this ESM package, so it says so explicitly.
    mkdirSync(outdir, { recursive: true });
    writeFileSync(join(outdir, "package.json"), '{ "type": "commonjs" }\n');
    const [file, output] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint)!;
    const path = resolve(projectRoot, file);
    return {
      ok: true,
      bundle: {
        path,
        exportName,
        format: "cjs",
        bytes: output.bytes,
        composition: composition(result.metafile, path),
        ...(moved
          ? {
              note: "the entry's top-level init (with its top-level await) runs in an init promise the handler awaits (SAM's defaults reject top-level await)",
            }
          : {}),
      },
    };
  } catch (error) {
    return { ok: false, error: `SAM-default build failed: ${firstLine(error)}` };
  }
}

function firstLine(error: unknown): string {
  const e = error as { errors?: Array<{ text: string; location?: { file: string; line: number } }>; message?: string };
  if (e.errors?.length) {
    const first = e.errors[0]!;
    return `${first.location ? `${first.location.file}:${first.location.line}: ` : ""}${first.text}`;
  }
  return String(e.message ?? error).split("\n")[0]!;
}
