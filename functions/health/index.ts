// GET /health — no auth, no I/O: answers whether the function can run at all.
import { createHttpHandler } from "#shared/http/handler.ts";
import { useMetricsPublisher } from "#shared/metrics.ts";
import { powertoolsPublisher } from "#shared/metrics-powertools.ts";
import { routes } from "./routes.ts";

useMetricsPublisher(powertoolsPublisher());
export const handler = createHttpHandler(routes);
