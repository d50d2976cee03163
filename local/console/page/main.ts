// The stagepass console: a page served by the offline stack at `/`. Routes: `#/` (rooms), `#/rooms/{roomId}`.
import { fill, h } from "./dom.ts";
import { requestsPanel } from "./requests.ts";
import { roomView } from "./room.ts";
import { roomsView } from "./rooms.ts";
import { allSessions, currentSession, onSessionChange, signOut, switchTo } from "./session.ts";
import { signInView } from "./signin.ts";

const header = h("header", { class: "top" });
const main = h("main", { id: "main" });
const app = document.getElementById("app")!;
fill(app, h("a", { class: "skip", href: "#main" }, "Skip to the content"), header, main, requestsPanel());

let dispose: (() => void) | undefined;
/** "Sign in as another user" asked for while someone is signed in. */
let signingIn = false;

function render() {
  dispose?.();
  dispose = undefined;
  renderHeader();
  const session = currentSession();
  if (!session || signingIn) {
    fill(
      main,
      signInView(
        session
          ? () => {
              signingIn = false;
              render();
            }
          : undefined,
      ),
    );
    main.querySelector("input")?.focus();
    return;
  }
  const room = /^#\/rooms\/([^/]+)$/.exec(location.hash);
  if (room) {
    const view = roomView(decodeURIComponent(room[1]!), session);
    dispose = view.dispose;
    fill(main, view.element);
  } else {
    fill(main, roomsView(session));
    main.querySelector("h1")?.focus();
  }
}

function renderHeader() {
  const session = currentSession();
  const others = allSessions().filter((s) => s.username !== session?.username);
  fill(
    header,
    h("a", { class: "brand", href: "#/" }, "stagepass ", h("span", {}, "console · offline stack")),
    session
      ? h(
          "div",
          { class: "who" },
          h(
            "span",
            {},
            "Signed in as ",
            h("strong", { "data-testid": "signed-in-as" }, session.username),
            session.groups.length ? h("small", {}, ` (${session.groups.join(", ")})`) : null,
          ),
          others.length
            ? h(
                "label",
                { class: "inline-label" },
                "Switch to ",
                h(
                  "select",
                  {
                    "aria-label": "Switch user",
                    onchange: (event: Event) => switchTo((event.target as HTMLSelectElement).value),
                  },
                  h("option", { value: "" }, "another user…"),
                  others.map((s) => h("option", { value: s.username }, s.username)),
                ),
              )
            : null,
          h(
            "button",
            {
              type: "button",
              class: "quiet",
              onclick: () => {
                signingIn = true;
                render();
              },
            },
            "Sign in as another user",
          ),
          h("button", { type: "button", class: "quiet", onclick: () => signOut() }, "Sign out"),
        )
      : null,
  );
}

window.addEventListener("hashchange", () => {
  signingIn = false;
  render();
});
onSessionChange(() => {
  signingIn = false;
  render();
});
render();
