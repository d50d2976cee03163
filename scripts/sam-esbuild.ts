// The esbuild command line `sam build` runs for a function with `BuildMethod: esbuild`, reproduced from
// aws-lambda-builders (workflows/nodejs_npm_esbuild): SAM CLI turns each BuildProperties key from PascalCase to
// snake_case and the builder turns the known ones into flags, ignoring the rest:
//   booleans      minify, sourcemap                          → --minify            (only when true)
//   single value  target, format, main_fields, sources_content → --main-fields=<value, as Python prints it>
//   multi value   external, loader, out_extension, banner     → --banner:<item>     (the value must be a list)
// plus --bundle --platform=node --outdir=<artifacts>, and --target=es2020 / --format=cjs / --minify when the
// template leaves them out. The entry points come first. `use_npm_ci` picks `npm ci` over `npm install` for the
// dependencies (so the project's own esbuild devDependency is on the builder's search path).
//
// Running this command with the project's esbuild is how tests/integration/sam-template.test.ts shows that each function
// bundles the way `sam build` will bundle it, independently of local/build.ts's own translation.

const BOOLEAN = ["minify", "sourcemap"];
const SINGLE = ["target", "format", "main_fields", "sources_content"];
const MULTI = ["external", "loader", "out_extension", "banner"];
/** Read by the workflow itself rather than turned into flags. */
const WORKFLOW = ["entry_points", "use_npm_ci"];

/** Every BuildProperties key SAM's esbuild workflow reads; anything else is silently ignored by `sam build`. */
export const SAM_ESBUILD_PROPERTIES = [...BOOLEAN, ...SINGLE, ...MULTI, ...WORKFLOW].map(toPascal);

function toPascal(snake: string): string {
  return snake
    .split("_")
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/** SAM CLI's normalisation: `MainFields` → `main_fields`. */
export function toSnake(pascal: string): string {
  return pascal.replace(/(?<!^)(?=[A-Z])/g, "_").toLowerCase();
}

/** How Python's f-string prints a value (a YAML list reaches esbuild as `['module', 'main']`). */
function pythonStr(value: unknown): string {
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  if (Array.isArray(value))
    return `[${value.map((v) => (typeof v === "string" ? `'${v}'` : pythonStr(v))).join(", ")}]`;
  return String(value);
}

export function samEsbuildArgs(buildProperties: Record<string, unknown>, artifactsDir: string): string[] {
  const config = Object.fromEntries(Object.entries(buildProperties).map(([k, v]) => [toSnake(k), v]));
  const entryPoints = config.entry_points;
  if (!Array.isArray(entryPoints) || entryPoints.length === 0) throw new Error("entry_points must be a non-empty list");
  const args: string[] = entryPoints.map(String);
  args.push("--bundle", "--platform=node", `--outdir=${artifactsDir}`);
  if (!("target" in config)) args.push("--target=es2020");
  if (!("format" in config)) args.push("--format=cjs");
  if (!("minify" in config)) args.push("--minify");
  for (const p of BOOLEAN) if (config[p] === true) args.push(`--${p.replace(/_/g, "-")}`);
  for (const p of SINGLE) if (p in config) args.push(`--${p.replace(/_/g, "-")}=${pythonStr(config[p])}`);
  for (const p of MULTI) {
    if (!(p in config)) continue;
    const values = config[p];
    if (!Array.isArray(values))
      throw new Error(`${p} must be a list (sam build fails with "Invalid type for property ${p}")`);
    for (const v of values) args.push(`--${p.replace(/_/g, "-")}:${String(v)}`);
  }
  return args;
}
