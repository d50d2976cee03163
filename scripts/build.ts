// `npm run build`: bundle every function in template.yaml into .build/<LogicalId>/, as `sam build` would.
import { buildAll } from "../local/build.ts";

const built = await buildAll();
for (const fn of built) {
  console.log(
    `${fn.definition.logicalId.padEnd(26)} ${(fn.bytes / 1024).toFixed(1).padStart(8)} KiB  ${fn.bundlePath}`,
  );
}
