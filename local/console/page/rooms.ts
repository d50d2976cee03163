// The rooms the signed-in user may enter (GET /rooms), and a form to create one (POST /rooms).
import { append, field, fill, h, time } from "./dom.ts";
import { call } from "./http.ts";
import { panel, table } from "./panel.ts";
import { renderReply } from "./reply.ts";
import { metricsPanel } from "./metrics.ts";
import { auth, type Session } from "./session.ts";

export interface Room {
  roomId: string;
  stageArn: string;
  name: string;
  title?: string;
  ownerId: string;
  createdAt: string;
  updatedAt: string;
  activeSessionId?: string | null;
  live?: boolean;
  yourRole: string;
  policy?: Policy;
  tags?: Record<string, string>;
}

export interface Policy {
  access: string;
  defaultRole: string;
  roles: Record<string, { capabilities: string[]; moderator: boolean; maxDurationMinutes: number }>;
  [key: string]: unknown;
}

export function roomsView(session: Session): HTMLElement {
  const list = panel(
    "rooms",
    "Rooms you may enter",
    async (body) => {
      let nextToken: string | undefined;
      const rows = h("div");
      const more = h("p");
      const page = async () => {
        const query = nextToken ? `?nextToken=${encodeURIComponent(nextToken)}` : "";
        const reply = await call<{ rooms: Room[]; nextToken?: string }>("GET", `/rooms${query}`, {
          auth: auth(session),
        });
        if (!reply.ok) return fill(rows, renderReply(reply));
        append(rows, [
          table(
            ["Room", "Name", "Your role", "Access", "Created"],
            reply.body.rooms.map((r) => [
              h("a", { href: `#/rooms/${r.roomId}` }, r.title || r.name || r.roomId, " ", h("code", {}, r.roomId)),
              r.name || "—",
              r.yourRole,
              r.policy?.access ?? "—",
              time(r.createdAt),
            ]),
            nextToken ? "No more rooms." : "No rooms yet: create one.",
          ),
        ]);
        nextToken = reply.body.nextToken;
        fill(
          more,
          nextToken ? h("button", { type: "button", class: "quiet", onclick: () => void page() }, "More rooms") : null,
        );
      };
      fill(body, rows, more);
      await page();
    },
    { intro: "Open rooms, yours, those you are a member of or your groups map to (all of them for admins)." },
  );

  const result = h("div", { class: "result", "aria-live": "polite" });
  const create = h(
    "form",
    { class: "stack-form", "aria-labelledby": "create-title" },
    h("label", {}, "Title", h("input", { name: "title", maxlength: "200", placeholder: "Daily standup" })),
    h(
      "label",
      {},
      "Stage name ",
      h("small", {}, "(optional, IVS: letters, digits, - and _)"),
      h("input", { name: "name", pattern: "[a-zA-Z0-9\\-_]{0,128}", placeholder: "standup" }),
    ),
    h(
      "label",
      {},
      "Access",
      h(
        "select",
        { name: "access" },
        h("option", { value: "open" }, "open: anyone signed in gets the default role"),
        h("option", { value: "members" }, "members: only members and mapped groups"),
      ),
    ),
    h(
      "label",
      {},
      "Default role",
      h(
        "select",
        { name: "defaultRole" },
        ["viewer", "speaker", "host"].map((r) => h("option", { value: r }, r)),
      ),
    ),
    h("p", { class: "buttons" }, h("button", { type: "submit" }, "Create room")),
    result,
  );
  create.addEventListener("submit", (event) => {
    event.preventDefault();
    const body: Record<string, unknown> = {
      policy: { access: field(create, "access"), defaultRole: field(create, "defaultRole") },
    };
    if (field(create, "title")) body.title = field(create, "title");
    if (field(create, "name")) body.name = field(create, "name");
    void call<Room>("POST", "/rooms", { auth: auth(session), body }).then((reply) => {
      if (reply.ok) location.hash = `#/rooms/${reply.body.roomId}`;
      else fill(result, renderReply(reply));
    });
  });

  const open = h(
    "form",
    { class: "row-form", "aria-label": "Open a room by id" },
    h("label", {}, "Room id", h("input", { name: "roomId", required: true, pattern: "[a-zA-Z0-9\\-]{1,64}" })),
    h("button", { type: "submit" }, "Open"),
  );
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/rooms/${field(open, "roomId")}`;
  });

  const metrics = metricsPanel();
  void list.refresh();
  void metrics.refresh();
  return h(
    "div",
    { class: "columns" },
    h(
      "div",
      { class: "column" },
      h("h1", { tabindex: "-1" }, "Rooms"),
      list.section,
      h(
        "section",
        { class: "panel" },
        h("h2", {}, "Open a room by id"),
        h(
          "p",
          { class: "intro" },
          "Members-only rooms of others are not listed; open one by its id to see what the API answers you.",
        ),
        open,
      ),
    ),
    h(
      "div",
      { class: "column" },
      h(
        "section",
        { class: "panel", "aria-labelledby": "create-title" },
        h("h2", { id: "create-title" }, "Create a room"),
        h("p", { class: "intro" }, "A room is an IVS stage plus its rules; you become its owner (role host)."),
        create,
      ),
      metrics.section,
    ),
  );
}
