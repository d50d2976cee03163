// Which AWS SDK commands a function's bundle can send (and which operations of the token function's lite client),
// read from the bundle itself (not from a hand list), plus the
// two facts about its DynamoDB calls that IAM needs: the kinds of item a TransactWriteItems call carries, and whether
// a query names an index.
//
// Why an analysis build: esbuild's metafile lists every module it *read* (`inputs`), which for the SDK is every
// command of every client, because each client's index re-exports them all. The modules that actually reach the
// output are those with `bytesInOutput > 0` in the output's own `inputs`, and that set is already close: esbuild
// drops a command module that no live code references. It still over-reports in one way: a module kept for its
// possible side effects. `@aws-sdk/lib-dynamodb` declares no `sideEffects: false`, so its
// `pagination/ScanPaginator.js` (`export const paginateScan = createPaginator(..., ScanCommand, ...)`, a top-level
// call esbuild must assume impure) stays in every bundle that imports the document client, and ScanCommand with it,
// although no code here ever references `paginateScan`. (Looking for the operation's name in the minified output
// does not help: the paginator keeps ScanCommand's class, and with it the "Scan" string, alive.)
//
// So the bundle is built a second time, with the template's own BuildProperties but with every module under
// `@aws-sdk/*` and `@smithy/*` declared side-effect free. That is sound for the question asked: esbuild only drops a
// side-effect-free module none of whose exports is used by included code, so a command class that any live code
// path can construct is always kept, while one held only by an unused paginator or aggregated client goes. The
// analysis bundle is never run; the deployed one is `local/build.ts`'s, built from the same options.
import { build, type Metafile, type Plugin } from "esbuild";
import ts from "typescript";
import { esbuildOptionsFor } from "../local/build.ts";
import type { FunctionDefinition } from "../local/template.ts";

export interface SdkCommand {
  /** The npm package, e.g. `@aws-sdk/client-dynamodb`. */
  pkg: string;
  /** The operation, e.g. `GetItem` (the class is `GetItemCommand`). */
  operation: string;
}

export interface SdkCalls {
  /** Commands of the service clients (`@aws-sdk/client-*`) whose modules reach the analysis bundle. */
  commands: SdkCommand[];
  /** Commands that only the SDK's own internals hold (credential providers in `@aws-sdk/nested-clients`). */
  internal: SdkCommand[];
  /** `lib-dynamodb` document commands in the bundle (each wraps the client command of the same operation). */
  documentCommands: string[];
  /** Kinds of item (ConditionCheck, Put, Update, Delete) in the TransactWriteItems calls of the project's code. */
  transactItemKinds: string[];
  /** Index names the project's code passes as `IndexName`. */
  indexNames: string[];
  /** Project modules (not under node_modules/) that reach the bundle. */
  projectModules: string[];
}

const COMMAND_MODULE = /node_modules\/(@aws-sdk\/[^/]+)\/dist-es\/(?:submodules\/[^/]+\/)?commands\/(\w+)Command\.js$/;
const SDK_MODULE = /\/node_modules\/(?:@aws-sdk|@smithy)\//;

/**
 * esbuild's answers, kept across builds: each of them resolves the same SDK imports again, and a round trip from
 * esbuild to this plugin and back per import (thousands a bundle) was most of an analysis's time. Keyed by what
 * decides a resolution besides the build's options, which are the same for every function (esbuildOptionsFor).
 */
const resolutions = new Map<string, Promise<{ path: string; namespace: string; external: boolean } | undefined>>();

/** Declares every SDK module side-effect free (see the comment at the top). */
const sdkSideEffectFree: Plugin = {
  name: "sdk-side-effect-free",
  setup(b) {
    const options = JSON.stringify([
      b.initialOptions.platform,
      b.initialOptions.format,
      b.initialOptions.mainFields,
      b.initialOptions.conditions,
    ]);
    b.onResolve({ filter: /.*/ }, async (args) => {
      if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
      const key = JSON.stringify([options, args.kind, args.resolveDir, args.path]);
      let found = resolutions.get(key);
      if (!found) {
        found = b
          .resolve(args.path, {
            kind: args.kind,
            resolveDir: args.resolveDir,
            importer: args.importer,
            pluginData: { inner: true },
          })
          .then((resolved) =>
            resolved.errors.length > 0 || !SDK_MODULE.test(resolved.path)
              ? undefined
              : { path: resolved.path, namespace: resolved.namespace, external: resolved.external },
          );
        resolutions.set(key, found);
      }
      const resolved = await found;
      return resolved && { ...resolved, sideEffects: false };
    });
  },
};

/** Modules with bytes in the bundle's main output, from a metafile. */
export function liveModules(metafile: Metafile): string[] {
  const main = Object.entries(metafile.outputs).find(([file, out]) => !file.endsWith(".map") && out.entryPoint);
  if (!main) throw new Error("the metafile has no entry-point output");
  return Object.entries(main[1].inputs)
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([path]) => path);
}

/**
 * The token function's lite client (shared/aws/lite) sends each operation through a module of its own,
 * `commands/<service>/<Operation>.ts`, `<service>` being the SDK package's name without `@aws-sdk/client-`: the
 * same operation, the same IAM action, so it is reported as that package's command.
 */
const LITE_COMMAND_MODULE = /(?:^|\/)shared\/aws\/lite\/commands\/([a-z0-9-]+)\/(\w+)\.ts$/;

export function commandsIn(modules: string[]): SdkCommand[] {
  return modules.flatMap((path) => {
    const m = COMMAND_MODULE.exec(path) ?? LITE_COMMAND_MODULE.exec(path);
    if (!m) return [];
    return [{ pkg: m[1]!.startsWith("@") ? m[1]! : `@aws-sdk/client-${m[1]!}`, operation: m[2]! }];
  });
}

/** Builds the function the template's way, SDK modules side-effect free, unminified, in memory. */
export async function analyseFunction(fn: FunctionDefinition): Promise<SdkCalls> {
  const result = await build({
    ...esbuildOptionsFor(fn, "/analysis"),
    minify: false,
    sourcemap: false,
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [sdkSideEffectFree],
  });
  const modules = liveModules(result.metafile);
  const all = commandsIn(modules);
  // A commands/ folder in any other package is unknown to this analysis: say so rather than guess.
  const unknown = all.filter(
    (c) =>
      !c.pkg.startsWith("@aws-sdk/client-") && c.pkg !== "@aws-sdk/nested-clients" && c.pkg !== "@aws-sdk/lib-dynamodb",
  );
  if (unknown.length)
    throw new Error(
      `${fn.logicalId}: commands from packages this analysis does not know: ${unknown.map((c) => `${c.pkg}:${c.operation}`).join(", ")}`,
    );
  const output = result.outputFiles.find((f) => /\.m?js$/.test(f.path));
  if (!output) throw new Error(`${fn.logicalId}: the analysis build wrote no JavaScript`);
  const project = projectSections(output.text);
  const facts = dynamoFacts(project);
  return {
    commands: all.filter((c) => c.pkg.startsWith("@aws-sdk/client-")),
    internal: all.filter((c) => c.pkg === "@aws-sdk/nested-clients"),
    documentCommands: all.filter((c) => c.pkg === "@aws-sdk/lib-dynamodb").map((c) => c.operation),
    ...facts,
    projectModules: modules.filter((p) => !p.startsWith("node_modules/")),
  };
}

/**
 * The project's own code (everything not under node_modules/) in an unminified esbuild bundle: esbuild heads each
 * module's code with a `// <path>` comment line, and keeps of each module only the top-level statements live code
 * needs.
 */
export function projectSections(bundle: string): Array<{ path: string; code: string }> {
  const sections: Array<{ path: string; code: string[] }> = [];
  let current: { path: string; code: string[] } | undefined;
  for (const line of bundle.split("\n")) {
    // esbuild keeps no ordinary comments, so a line that is only `// <file>` is always a module header.
    const header = /^\/\/ (\S+\.(?:[cm]?[jt]s|json))$/.exec(line);
    if (header) {
      current = { path: header[1]!, code: [] };
      sections.push(current);
      continue;
    }
    current?.code.push(line);
  }
  return sections
    .filter((s) => !s.path.startsWith("node_modules/"))
    .map((s) => ({ path: s.path, code: s.code.join("\n") }));
}

const TRANSACT_KINDS = new Set(["ConditionCheck", "Put", "Update", "Delete"]);

/**
 * A TransactWriteItems item is an object `{ <Kind>: { TableName, ... } }`; BatchWriteItem's are `PutRequest` /
 * `DeleteRequest` and single-item commands take `{ TableName, ... }` directly, so neither is mistaken for one.
 */
export function dynamoFacts(sections: Array<{ path: string; code: string }>): {
  transactItemKinds: string[];
  indexNames: string[];
} {
  const kinds = new Set<string>();
  const indexes = new Set<string>();
  for (const section of sections) {
    const source = ts.createSourceFile(section.path, section.code, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
    const visit = (node: ts.Node) => {
      if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name)) {
        const key = node.name.text;
        if (
          TRANSACT_KINDS.has(key) &&
          ts.isObjectLiteralExpression(node.initializer) &&
          node.initializer.properties.some((p) => p.name && ts.isIdentifier(p.name) && p.name.text === "TableName")
        ) {
          kinds.add(key);
        }
        if (key === "IndexName") {
          if (!ts.isStringLiteral(node.initializer)) {
            throw new Error(
              `${section.path}: IndexName is not a string literal; the IAM analysis cannot tell which index is queried`,
            );
          }
          indexes.add(node.initializer.text);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { transactItemKinds: [...kinds].sort(), indexNames: [...indexes].sort() };
}

/** The deployed bundle's view, for comparison: command modules with bytes in its output (over-reports, see above). */
export function deployedCommands(metafile: Metafile): SdkCommand[] {
  return commandsIn(liveModules(metafile)).filter((c) => c.pkg.startsWith("@aws-sdk/client-"));
}
