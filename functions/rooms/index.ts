// Rooms, members, tags, live participants and administration. Clients, verifier and config are built once per container.
import { initContainer } from "#shared/container.ts";
import { createHttpHandler } from "#shared/http/handler.ts";
import { createLiveReader } from "#shared/live/refresh.ts";
import { liveDeps } from "#shared/live/wiring.ts";
import { routes } from "./routes.ts";

const { deps, authenticator } = await initContainer();

export const handler = createHttpHandler(
  routes({ ...deps, live: createLiveReader(liveDeps(deps.db, deps.ivs)) }),
  authenticator,
);
