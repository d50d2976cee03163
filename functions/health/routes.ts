import type { HttpRequest, RouteTable } from "#shared/http/types.ts";

export const routes: RouteTable<HttpRequest> = { "GET /health": async () => ({ status: 200, body: { status: "ok" } }) };
