// Bundles each function the way `sam build` does with `BuildMethod: esbuild`: the BuildProperties in
// template.yaml are translated one to one into esbuild options, so the offline stack runs the same bundle
// that deploys.
import { build, type BuildOptions, type Metafile } from "esbuild";
import { join } from "node:path";
import { functionsOf, loadTemplate, projectRoot, type FunctionDefinition, type Template } from "./template.ts";

export const buildRoot = join(projectRoot, ".build");

export interface BuiltFunction {
  definition: FunctionDefinition;
  /** Absolute path of the bundle that holds the handler. */
  bundlePath: string;
  /** Exported name of the handler inside the bundle. */
  exportName: string;
  bytes: number;
  metafile: Metafile;
}

const listToRecord = (list: unknown): Record<string, string> =>
  Object.fromEntries(
    ((list as string[] | undefined) ?? []).map((entry) => {
      const eq = entry.indexOf("=");
      return [entry.slice(0, eq), entry.slice(eq + 1)];
    }),
  );

/** SAM's BuildProperties → esbuild options (SAM passes the same flags to the esbuild CLI). */
export function esbuildOptionsFor(fn: FunctionDefinition, outdir: string): BuildOptions {
  const p = fn.buildProperties;
  return {
    absWorkingDir: projectRoot,
    entryPoints: [fn.entryPoint],
    outdir,
    bundle: true,
    platform: (p.Platform as BuildOptions["platform"]) ?? "node",
    format: (p.Format as BuildOptions["format"]) ?? "cjs",
    target: (p.Target as string | undefined) ?? "es2020",
    minify: Boolean(p.Minify ?? true),
    sourcemap: Boolean(p.Sourcemap ?? false),
    // SAM passes MainFields as one `--main-fields=<value>`: a comma-separated string (a YAML list would reach esbuild as "['module', 'main']").
    ...(p.MainFields
      ? { mainFields: Array.isArray(p.MainFields) ? (p.MainFields as string[]) : String(p.MainFields).split(",") }
      : {}),
    ...(p.External ? { external: p.External as string[] } : {}),
    ...(p.OutExtension ? { outExtension: listToRecord(p.OutExtension) } : {}),
    ...(p.Banner ? { banner: listToRecord(p.Banner) } : {}),
    ...(p.Loader ? { loader: listToRecord(p.Loader) as BuildOptions["loader"] } : {}),
    metafile: true,
    logLevel: "warning",
  };
}

export async function buildFunction(fn: FunctionDefinition, root = buildRoot): Promise<BuiltFunction> {
  const outdir = join(root, fn.logicalId);
  const result = await build(esbuildOptionsFor(fn, outdir));
  const [moduleName, exportName] = splitHandler(fn.handler);
  const metafile = result.metafile!;
  const outputs = Object.entries(metafile.outputs).filter(([file]) => !file.endsWith(".map"));
  const main = outputs.find(([file]) => file.split("/").pop()?.startsWith(`${moduleName}.`));
  if (!main) throw new Error(`${fn.logicalId}: handler module ${moduleName} is not among the bundle's outputs`);
  return { definition: fn, bundlePath: join(projectRoot, main[0]), exportName, bytes: main[1].bytes, metafile };
}

export async function buildAll(template: Template = loadTemplate(), root = buildRoot): Promise<BuiltFunction[]> {
  return Promise.all(functionsOf(template).map((fn) => buildFunction(fn, root)));
}

export function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf(".");
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}
