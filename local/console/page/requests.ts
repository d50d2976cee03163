// Every request the console made (but the polling), newest first, with the bodies both ways: what a frontend
// would send and get back, problem documents included.
import { fill, h, json, time } from "./dom.ts";
import { onRequest, requestLog } from "./http.ts";
import { shownPath, statusText } from "./reply.ts";

export function requestsPanel(): HTMLElement {
  const list = h("ol", { class: "requests", reversed: true });
  const draw = () =>
    fill(
      list,
      requestLog().map((r) =>
        h(
          "li",
          {},
          h(
            "details",
            {},
            h(
              "summary",
              {},
              h("span", { class: `status status-${Math.floor(r.status / 100)}xx` }, statusText(r.status)),
              " ",
              h("code", {}, `${r.method} ${shownPath(r.path)}`),
              r.as ? h("small", {}, ` as ${r.as}`) : null,
              " ",
              h("small", {}, time(r.at.toISOString())),
            ),
            r.requestId ? h("p", {}, "x-request-id ", h("code", {}, r.requestId)) : null,
            r.requestBody !== undefined ? [h("h3", {}, "Request body"), json(r.requestBody)] : null,
            h("h3", {}, "Response body"),
            r.body === undefined ? h("p", {}, "(empty)") : json(r.body),
          ),
        ),
      ),
    );
  onRequest(draw);
  draw();
  return h(
    "section",
    { class: "panel requests-panel", "aria-labelledby": "requests-title" },
    h(
      "details",
      {},
      h(
        "summary",
        {},
        h("h2", { id: "requests-title" }, "Requests"),
        h("small", {}, " every call this page made to the stack, with both bodies"),
      ),
      list,
    ),
  );
}
