// How a reply is shown next to the action that caused it: the status, and for an error the problem document's
// title, detail, code and field errors — what a frontend would have to show its user — with the raw body below.
import { h, json } from "./dom.ts";
import { isMissingEmulatorRoute, isMissingRoute, type Problem, type Reply } from "./http.ts";

const REASONS: Record<number, string> = {
  0: "No answer",
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export function statusText(status: number): string {
  return `${status} ${REASONS[status] ?? ""}`.trim();
}

/** A short line and, for errors, the problem document; `success` replaces the raw body of a 2xx when given. */
export function renderReply(reply: Reply, success?: string): HTMLElement {
  const line = h(
    "p",
    { class: "reply-line" },
    h("span", { class: `status status-${Math.floor(reply.status / 100)}xx` }, statusText(reply.status)),
    " ",
    h("code", {}, `${reply.method} ${shownPath(reply.path)}`),
  );
  if (reply.ok) {
    return h(
      "div",
      { class: "reply ok", "data-status": reply.status },
      line,
      success ? h("p", {}, success) : reply.body === undefined ? null : details("Body", reply.body),
    );
  }
  const problem = (
    typeof reply.body === "object" && reply.body !== null ? reply.body : { detail: String(reply.body ?? "") }
  ) as Problem;
  const hint = isMissingRoute(reply)
    ? "This stack has no such route (yet): API Gateway's own 404."
    : isMissingEmulatorRoute(reply)
      ? "The IVS emulator of this stack does not have this simulated-client route yet."
      : reply.status === 401 && problem.code === "unauthorized"
        ? "The signed-in user's JWT was refused (they expire after an hour): sign in again."
        : null;
  return h(
    "div",
    { class: "reply error", role: "alert", "data-status": reply.status },
    line,
    problem.title || problem.code
      ? h(
          "p",
          { class: "problem-title" },
          h("strong", {}, problem.title ?? ""),
          problem.code ? [" ", h("code", {}, problem.code)] : null,
        )
      : null,
    problem.detail || problem.message
      ? h("p", { class: "problem-detail" }, problem.detail ?? problem.message ?? "")
      : null,
    problem.until ? h("p", {}, `Banned until ${new Date(problem.until).toLocaleString()}`) : null,
    problem.errors?.length
      ? h(
          "ul",
          { class: "problem-errors" },
          problem.errors.map((e) => h("li", {}, h("code", {}, e.path ?? ""), " ", e.message ?? "")),
        )
      : null,
    hint ? h("p", { class: "hint" }, hint) : null,
    details("Problem document", reply.body),
  );
}

const EMULATOR = "/_console/ivs/";

/** The emulator's routes are shown as the emulator names them, not by the stack's path to them. */
export function shownPath(path: string): string {
  return path.startsWith(EMULATOR) ? `${path.replace(EMULATOR, "/_emulator/")} (IVS emulator)` : path;
}

function details(summary: string, body: unknown): HTMLElement {
  return h("details", {}, h("summary", {}, summary), json(body));
}
