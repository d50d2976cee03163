// GET /health — no auth, no I/O: answers whether the function can run at all.
import { createHttpHandler } from "#shared/http/handler.ts";
import { routes } from "./routes.ts";

export const handler = createHttpHandler(routes);
