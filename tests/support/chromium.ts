// The system's Chromium for browser tests (Debian's `chromium` package; .ci/run installs it): CHROMIUM_PATH, else
// /usr/bin/chromium, else `chromium` on the PATH. Playwright drives it; it downloads no browser of its own.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function findChromium(env: Record<string, string | undefined> = process.env): string | undefined {
  const candidates = [
    env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    ...(env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .flatMap((dir) => [join(dir, "chromium"), join(dir, "chromium-browser")]),
  ];
  return candidates.find((path) => path !== undefined && path !== "" && executable(path));
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
