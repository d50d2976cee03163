// Sign in as any local user: the stack's POST /dev/login issues a Cognito-shaped id token for whatever username
// and groups are asked for. No password: this identity exists only offline.
import { field, h } from "./dom.ts";
import { renderReply } from "./reply.ts";
import { allSessions, signIn, switchTo } from "./session.ts";

/** Signing in (or continuing as someone) changes the session, which redraws the page; `onCancel` goes back. */
export function signInView(onCancel?: () => void): HTMLElement {
  const result = h("div", { class: "result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack-form", "aria-labelledby": "signin-title" },
    h(
      "label",
      {},
      "Username",
      h("input", {
        name: "username",
        required: true,
        pattern: "[a-zA-Z0-9._\\-]{1,64}",
        autocomplete: "username",
        placeholder: "alice",
      }),
    ),
    h(
      "label",
      {},
      "Display name ",
      h("small", {}, "(optional: the token's displayName)"),
      h("input", { name: "displayName", placeholder: "Alice" }),
    ),
    h(
      "label",
      {},
      "Groups ",
      h("small", {}, "(optional, comma separated: ", h("code", {}, "admin"), " administers every room)"),
      h("input", { name: "groups", placeholder: "admin" }),
    ),
    h(
      "p",
      { class: "buttons" },
      h("button", { type: "submit" }, "Sign in"),
      onCancel ? h("button", { type: "button", class: "quiet", onclick: onCancel }, "Cancel") : null,
    ),
    result,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const groups = field(form, "groups")
      .split(",")
      .map((g) => g.trim())
      .filter(Boolean);
    void signIn(field(form, "username"), groups, field(form, "displayName")).then((reply) => {
      if (!reply.ok) result.replaceChildren(renderReply(reply));
    });
  });
  const others = allSessions();
  return h(
    "section",
    { class: "panel signin" },
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in as a local user"),
    h(
      "p",
      { class: "intro" },
      "Any username works: the offline stack signs a JWT shaped like Cognito's for it, and every request this console makes carries it, as your frontend's would.",
    ),
    form,
    others.length
      ? h(
          "div",
          {},
          h("h2", {}, "Already signed in"),
          h(
            "ul",
            { class: "inline" },
            others.map((s) =>
              h(
                "li",
                {},
                h(
                  "button",
                  { type: "button", class: "quiet", onclick: () => switchTo(s.username) },
                  `Continue as ${s.username}`,
                ),
              ),
            ),
          ),
        )
      : null,
  );
}
