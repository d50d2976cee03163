// Child processes: the runners in bench/children/ compiled to plain .mjs (so the measured process has no
// TypeScript loader), started with this Node binary and a function's environment, their answer read from a file.
import { build } from "esbuild";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../local/template.ts";
import { benchBuildRoot } from "./bundles.ts";

const childrenDir = join(benchBuildRoot, "children");
const scratchDir = join(benchBuildRoot, "scratch");

export type ChildName = "cold" | "warm";

export async function compileChildren(): Promise<Record<ChildName, string>> {
  mkdirSync(childrenDir, { recursive: true });
  await build({
    absWorkingDir: projectRoot,
    entryPoints: { cold: "bench/children/cold.ts", warm: "bench/children/warm.ts" },
    outdir: childrenDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    // Packages load from node_modules at run time, as any Node program's would.
    packages: "external",
    logLevel: "warning",
  });
  return { cold: join(childrenDir, "cold.mjs"), warm: join(childrenDir, "warm.mjs") };
}

let sequence = 0;

/**
 * Runs one child to completion and returns what it wrote. Its stdout and stderr (the function's own log lines) go to
 * `logFd`, so that the bench can check them and they stay out of the report.
 */
export async function runChild<T>(
  script: string,
  input: unknown,
  env: Record<string, string>,
  logFd: number,
  timeoutMs = 120_000,
): Promise<T> {
  mkdirSync(scratchDir, { recursive: true });
  const id = `${process.pid}-${++sequence}`;
  const inputPath = join(scratchDir, `${id}.in.json`);
  const outputPath = join(scratchDir, `${id}.out.json`);
  writeFileSync(inputPath, JSON.stringify(input));
  try {
    const child = spawn(
      process.execPath,
      [...(process.env.BENCH_CHILD_NODE_ARGS?.split(" ").filter(Boolean) ?? []), script, inputPath, outputPath],
      { env, stdio: ["ignore", logFd, logFd] },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (c, signal) => resolve(signal ? -1 : c));
    });
    clearTimeout(timer);
    let text: string;
    try {
      text = readFileSync(outputPath, "utf8");
    } catch {
      throw new Error(
        `child ${script.split("/").pop()} exited with ${code} and no result (its output is in the bench log)`,
      );
    }
    return JSON.parse(text) as T;
  } finally {
    rmSync(inputPath, { force: true });
    rmSync(outputPath, { force: true });
  }
}
