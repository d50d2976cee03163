// The web console's server half: the page at `/`, its script (bundled from `page/` by esbuild at the first
// request, then kept) and stylesheet under `/_console/`, and a same-origin path to the IVS emulator's simulated
// client routes, so that the page needs no CORS from the emulator. Offline only: nothing here is deployed.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";

const pageDir = fileURLToPath(new URL("./page/", import.meta.url));

/** `/_console/ivs/<rest>` reaches `<ivsEndpoint>/_emulator/<rest>`: the emulator-only routes, never the AWS API. */
export const EMULATOR_PROXY_PREFIX = "/_console/ivs/";

// The page loads nothing from elsewhere and runs no inline script.
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

export interface ConsoleOptions {
  /** The IVS emulator's URL (its `/_emulator/` routes are what a simulated client calls). */
  ivsEndpoint: string;
}

export interface ConsoleServer {
  /** Whether the request is the console's (the page, its assets, its emulator path) rather than the API's. */
  handles(method: string, path: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>;
}

export function createConsoleServer(options: ConsoleOptions): ConsoleServer {
  let script: Promise<string> | undefined;
  const bundle = () => {
    script ??= bundlePage().catch((error: unknown) => {
      script = undefined; // a fixed page builds at the next request
      throw error;
    });
    return script;
  };

  return {
    handles(method, path) {
      if (path === "/") return method === "GET" || method === "HEAD";
      return path.startsWith("/_console/");
    },
    async serve(req, res, body) {
      const method = (req.method ?? "GET").toUpperCase();
      const path = (req.url ?? "/").split("?")[0]!;
      if (path.startsWith(EMULATOR_PROXY_PREFIX))
        return proxyToEmulator(options.ivsEndpoint, method, path, req, res, body);
      if (method !== "GET" && method !== "HEAD") return text(res, 405, "Method Not Allowed");
      try {
        switch (path) {
          case "/":
            return send(res, 200, "text/html; charset=utf-8", await readFile(`${pageDir}index.html`));
          case "/_console/console.css":
            return send(res, 200, "text/css; charset=utf-8", await readFile(`${pageDir}console.css`));
          case "/_console/console.js":
            return send(res, 200, "text/javascript; charset=utf-8", await bundle());
          default:
            return text(res, 404, "Not Found");
        }
      } catch (error) {
        // A page that does not build says why in the terminal and in the browser.
        console.error("console:", error);
        return text(res, 500, `The console could not be served: ${(error as Error).message}`);
      }
    },
  };
}

async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [`${pageDir}main.ts`],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: "inline",
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

async function proxyToEmulator(
  ivsEndpoint: string,
  method: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
) {
  if (method !== "GET" && method !== "POST") return text(res, 405, "Method Not Allowed");
  // Resolved first, so that no `..` (plain or percent-encoded) leads out of the emulator-only routes.
  const target = new URL(`${ivsEndpoint}/_emulator/${path.slice(EMULATOR_PROXY_PREFIX.length)}`);
  if (!target.pathname.startsWith("/_emulator/")) return text(res, 404, "Not Found");
  try {
    const answer = await fetch(target, {
      method,
      headers: { "content-type": String(req.headers["content-type"] ?? "application/json") },
      ...(method === "POST" ? { body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    return send(
      res,
      answer.status,
      answer.headers.get("content-type") ?? "application/json",
      Buffer.from(await answer.arrayBuffer()),
    );
  } catch (error) {
    return send(
      res,
      502,
      "application/json",
      JSON.stringify({ message: `The IVS emulator did not answer: ${(error as Error).message}` }),
    );
  }
}

function send(res: ServerResponse, status: number, contentType: string, payload: string | Buffer) {
  res.writeHead(status, {
    ...PAGE_HEADERS,
    "content-type": contentType,
    "content-length": String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

function text(res: ServerResponse, status: number, message: string) {
  send(res, status, "text/plain; charset=utf-8", message);
}
