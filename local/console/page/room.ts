// One room: who is on stage, a token and a simulated client for the signed-in user, moderation, the room's
// policy, members, tags and audit trail. Every panel reads and writes through the API as a frontend would.
import {
  act,
  addClient,
  clientsOf,
  exchange,
  forget,
  type ClientAction,
  type SimulatedClient,
  type TokenBody,
} from "./clients.ts";
import { checked, field, fill, h, json, time, type Child } from "./dom.ts";
import { call, type Reply } from "./http.ts";
import { panel, table, type Panel } from "./panel.ts";
import { fetchParticipants } from "./participants.ts";
import { renderReply } from "./reply.ts";
import type { Policy, Room } from "./rooms.ts";
import { auth, userIdFor, usernameOf, type Session } from "./session.ts";
import { webhooksPanel } from "./webhooks.ts";

const POLL_MS = 3_000;

interface RoomContext {
  roomId: string;
  session: Session;
  room: Room;
  /** The path of the room in the API, its id URL-encoded. */
  path: string;
  changed(...panels: PanelName[]): void;
}

type PanelName = "room" | "participants" | "clients" | "moderation" | "members" | "tags" | "audit" | "webhooks";

export function roomView(roomId: string, session: Session): { element: HTMLElement; dispose(): void } {
  const element = h("div", { class: "room" }, h("p", {}, "Loading the room…"));
  let timer: ReturnType<typeof setInterval> | undefined;
  let disposed = false;
  const path = `/rooms/${encodeURIComponent(roomId)}`;

  void call<Room>("GET", path, { auth: auth(session) }).then((reply) => {
    if (disposed) return;
    if (!reply.ok) {
      fill(
        element,
        h("h1", { tabindex: "-1" }, "Room ", h("code", {}, roomId)),
        renderReply(reply),
        h("p", {}, h("a", { href: "#/" }, "Back to the rooms")),
      );
      element.querySelector("h1")?.focus();
      return;
    }
    const panels = new Map<PanelName, Panel>();
    const ctx: RoomContext = {
      roomId,
      session,
      room: reply.body,
      path,
      changed: (...names) => {
        for (const name of names) void panels.get(name)?.refresh();
      },
    };
    const participants = participantsPanel(ctx);
    panels.set("participants", participants.panel);
    panels.set("clients", clientsPanel(ctx));
    panels.set("moderation", moderationPanel(ctx, participants.prefillBan));
    panels.set("room", roomPanel(ctx));
    panels.set("members", membersPanel(ctx));
    panels.set("tags", tagsPanel(ctx));
    panels.set("audit", auditPanel(ctx));
    panels.set("webhooks", webhooksPanel(session, roomId));
    const section = (name: PanelName) => panels.get(name)!.section;
    const room = reply.body;
    fill(
      element,
      h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Rooms"), " / ", room.roomId),
      h(
        "h1",
        { tabindex: "-1" },
        room.title || room.name || room.roomId,
        " ",
        h("span", { class: "badge" }, `you: ${room.yourRole}`),
      ),
      h(
        "div",
        { class: "columns" },
        h("div", { class: "column" }, section("participants"), section("clients"), section("moderation")),
        h(
          "div",
          { class: "column" },
          section("room"),
          section("audit"),
          section("members"),
          section("tags"),
          section("webhooks"),
        ),
      ),
    );
    element.querySelector("h1")?.focus();
    for (const p of panels.values()) void p.refresh();
    timer = setInterval(() => {
      if (participants.auto()) void participants.poll();
    }, POLL_MS);
  });

  return {
    element,
    dispose() {
      disposed = true;
      if (timer) clearInterval(timer);
    },
  };
}

function userCell(userId: string | null | undefined): Child {
  if (!userId) return "—";
  const name = usernameOf(userId);
  if (name) return h("span", { class: "user", title: userId }, name);
  // An unknown user id (a UUID) is shortened; anything else (a participant id) is shown whole.
  return userId.length === 36 ? h("code", { title: userId }, `${userId.slice(0, 8)}…`) : h("code", {}, userId);
}

function result(): HTMLElement {
  return h("div", { class: "result", "aria-live": "polite" });
}

function button(label: string, onclick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  return h("button", { type: "button", ...attrs, onclick }, label);
}

// ---------------------------------------------------------------------------------------------------------------

function participantsPanel(ctx: RoomContext) {
  const source = h("span", {}, "…");
  const auto = h("input", { type: "checkbox", checked: true });
  const out = result();
  let prefill: (userId: string) => void = () => undefined;
  let quietNext = false;
  let drawn = "";

  const load = async (body: HTMLElement) => {
    const quiet = quietNext;
    quietNext = false;
    const view = await fetchParticipants(ctx.roomId, ctx.session, quiet);
    fill(source, view.source);
    // Polling redraws only what changed, and keeps the keyboard focus on the button it was on.
    const signature = JSON.stringify([view.reply.status, view.participants]);
    if (signature === drawn && body.hasChildNodes()) return;
    drawn = signature;
    const focused = body.contains(document.activeElement) ? document.activeElement?.getAttribute("aria-label") : null;
    if (!view.reply.ok) return fill(body, renderReply(view.reply), out);
    const connected = view.participants.filter((p) => p.state === "connected").length;
    const publishing = view.participants.filter((p) => p.publishing).length;
    fill(
      body,
      h(
        "p",
        { class: "counts" },
        `${connected} connected, ${publishing} publishing (${view.participants.length} listed)`,
      ),
      table(
        ["Participant", "User", "Display name", "Role", "State", "Publishing", ""],
        view.participants.map((p) => [
          h("code", {}, p.participantId),
          userCell(p.userId),
          p.displayName ?? "—",
          p.role ?? "—",
          h("span", { class: `state state-${p.state}` }, p.state),
          p.publishing === null ? "—" : p.publishing ? h("span", { class: "publishing" }, "yes") : "no",
          h(
            "span",
            { class: "row-actions" },
            button("Kick", () => void kick(p.participantId), { "aria-label": `Kick participant ${p.participantId}` }),
            button("Ban…", () => prefill(p.userId), { "aria-label": `Ban the user of participant ${p.participantId}` }),
          ),
        ]),
        "Nobody has joined this stage yet. Get a token below and join with it as a simulated client.",
        view.participants.map((p) => ({
          "data-participant-id": p.participantId,
          "data-state": p.state,
          "data-publishing": String(p.publishing),
        })),
      ),
      out,
    );
    if (focused)
      [...body.querySelectorAll<HTMLElement>("[aria-label]")]
        .find((el) => el.getAttribute("aria-label") === focused)
        ?.focus();
  };

  const kick = async (participantId: string) => {
    fill(out);
    const reply = await call("POST", `${ctx.path}/kick`, { auth: auth(ctx.session), body: { participantId } });
    fill(out, renderReply(reply));
    ctx.changed("participants", "clients", "moderation", "audit");
  };

  const p = panel("participants", "On stage", load, {
    intro: ["Live participants, from ", source, "."],
    tools: h("label", { class: "inline-label" }, auto, " auto-refresh"),
  });
  return {
    panel: p,
    auto: () => auto.checked,
    poll: () => {
      quietNext = true;
      return p.refresh();
    },
    prefillBan: (fn: (userId: string) => void) => {
      prefill = fn;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

function clientsPanel(ctx: RoomContext): Panel {
  const out = result();
  const list = h("div", { class: "clients" });
  const form = h(
    "form",
    { class: "row-form", "aria-label": "Get a participant token" },
    h(
      "fieldset",
      {},
      h("legend", {}, "Capabilities ", h("small", {}, "(none: all of your role's)")),
      ["PUBLISH", "SUBSCRIBE"].map((c) =>
        h(
          "label",
          { class: "inline-label" },
          h("input", { type: "checkbox", name: "capabilities", value: c }),
          ` ${c}`,
        ),
      ),
    ),
    h(
      "label",
      {},
      "Minutes ",
      h("small", {}, "(optional)"),
      h("input", { name: "durationMinutes", type: "number", min: "1", max: "20160" }),
    ),
    h(
      "label",
      { class: "grow" },
      "Display name ",
      h("small", {}, "(optional)"),
      h("input", { name: "displayName", maxlength: "200" }),
    ),
    h("button", { type: "submit" }, "Get a token"),
    out,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body: Record<string, unknown> = {};
    const capabilities = ["PUBLISH", "SUBSCRIBE"].filter((c) => checked(form, "capabilities", c));
    if (capabilities.length) body.capabilities = capabilities;
    if (field(form, "durationMinutes")) body.durationMinutes = Number(field(form, "durationMinutes"));
    if (field(form, "displayName")) body.attributes = { displayName: field(form, "displayName") };
    fill(out);
    void call<TokenBody>("POST", `${ctx.path}/token`, {
      auth: auth(ctx.session),
      ...(Object.keys(body).length ? { body } : {}),
    }).then((reply) => {
      if (reply.ok) {
        addClient(reply.body, ctx.session.username);
        fill(
          out,
          renderReply(
            reply,
            `Token for participant ${reply.body.participantId}: role ${reply.body.role}, ${reply.body.capabilities.join(" + ")}, expires ${new Date(reply.body.expirationTime).toLocaleTimeString()}. It is below as a simulated client.`,
          ),
        );
        ctx.changed("clients");
      } else {
        fill(out, renderReply(reply));
      }
    });
  });

  // The last reply of each client stays on its card when the list is drawn again.
  const lastReplies = new Map<string, Reply>();
  const card = (client: SimulatedClient) => {
    const last = lastReplies.get(client.participantId);
    const cardOut = h("div", { class: "result", "aria-live": "polite" }, last ? renderReply(last) : null);
    const status = h("span", { class: "client-status" }, client.status);
    // The previous reply goes as an action starts, so that what is shown is always this action's.
    const start = () => {
      lastReplies.delete(client.participantId);
      fill(cardOut);
    };
    const run = (action: ClientAction) => {
      start();
      void act(client, action).then(done);
    };
    const done = (reply: Reply) => {
      lastReplies.set(client.participantId, reply);
      fill(cardOut, renderReply(reply));
      fill(status, client.status);
      ctx.changed("participants", "room");
    };
    return h(
      "article",
      {
        class: "client",
        "data-participant-id": client.participantId,
        "aria-label": `Simulated client ${client.participantId}`,
      },
      h("h3", {}, "Client ", h("code", {}, client.participantId)),
      h(
        "p",
        { class: "meta" },
        `${client.issuedTo} as ${client.role} · ${client.capabilities.join(" + ")} · expires `,
        time(client.expirationTime),
        " · ",
        status,
      ),
      h(
        "p",
        { class: "buttons" },
        button("Join", () => run("join")),
        button("Publish", () => run("publish")),
        button("Unpublish", () => run("unpublish")),
        button("Leave", () => run("leave")),
        button(
          "Exchange token",
          () => {
            start();
            void exchange(client, ctx.session).then(done);
          },
          { title: "A new token for the same participant, swapped in without leaving (self-signed token mode)" },
        ),
        button(
          "Forget",
          () => {
            forget(client);
            ctx.changed("clients");
          },
          { class: "quiet" },
        ),
      ),
      h("details", {}, h("summary", {}, "Token"), h("pre", { class: "token" }, client.token)),
      cardOut,
    );
  };

  return panel(
    "clients",
    "Your token and a simulated client",
    async (body) => {
      if (!body.contains(form)) fill(body, form, list);
      const all = clientsOf(ctx.roomId);
      const mine = all.filter((c) => c.issuedTo === ctx.session.username);
      const others = [...new Set(all.filter((c) => !mine.includes(c)).map((c) => c.issuedTo))];
      fill(
        list,
        mine.length ? mine.map(card) : h("p", { class: "empty" }, "No token yet."),
        others.length
          ? h(
              "p",
              { class: "empty" },
              `Other users' simulated clients here: ${others.join(", ")} (switch user to drive them).`,
            )
          : null,
      );
    },
    {
      intro: [
        "A participant token for ",
        h("strong", {}, ctx.session.username),
        " (POST /rooms/{roomId}/token), then what an IVS client does with it, played against the IVS emulator.",
      ],
    },
  );
}

// ---------------------------------------------------------------------------------------------------------------

interface Ban {
  userId: string;
  until: string;
  reason?: string;
  bannedBy: string;
  createdAt: string;
}

function moderationPanel(ctx: RoomContext, onBanAsked: (fn: (userId: string) => void) => void): Panel {
  const out = result();
  const form = h(
    "form",
    { class: "stack-form", "aria-label": "Kick or ban" },
    h(
      "div",
      { class: "row" },
      h(
        "label",
        {},
        "Kick by",
        h(
          "select",
          { name: "by" },
          h("option", { value: "participantId" }, "participant id"),
          h("option", { value: "userId" }, "user (username or id)"),
        ),
      ),
      h("label", { class: "grow" }, "Participant or user", h("input", { name: "target", required: true })),
    ),
    h(
      "div",
      { class: "row" },
      h(
        "label",
        { class: "grow" },
        "Reason ",
        h("small", {}, "(optional)"),
        h("input", { name: "reason", maxlength: "128" }),
      ),
      h(
        "label",
        {},
        "Ban minutes ",
        h("small", {}, "(0: no ban)"),
        h("input", { name: "banMinutes", type: "number", min: "0", max: "525600", value: "0" }),
      ),
    ),
    h("p", { class: "buttons" }, h("button", { type: "submit" }, "Kick")),
    out,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    fill(out);
    void (async () => {
      const by = field(form, "by");
      let target = field(form, "target");
      if (by === "userId") {
        const resolved = await userIdFor(target);
        if ("reply" in resolved) return fill(out, renderReply(resolved.reply));
        target = resolved.userId;
      }
      const body: Record<string, unknown> = { [by]: target };
      if (field(form, "reason")) body.reason = field(form, "reason");
      if (Number(field(form, "banMinutes")) > 0) body.banMinutes = Number(field(form, "banMinutes"));
      const reply = await call("POST", `${ctx.path}/kick`, { auth: auth(ctx.session), body });
      fill(out, renderReply(reply));
      ctx.changed("participants", "clients", "moderation", "audit");
    })();
  });
  onBanAsked((userId) => {
    (form.elements.namedItem("by") as HTMLSelectElement).value = "userId";
    (form.elements.namedItem("target") as HTMLInputElement).value = usernameOf(userId) ?? userId;
    const minutes = form.elements.namedItem("banMinutes") as HTMLInputElement;
    if (Number(minutes.value) <= 0) minutes.value = "60";
    form.scrollIntoView({ block: "nearest" });
    minutes.focus();
    minutes.select();
  });

  const bans = h("div");
  return panel(
    "moderation",
    "Kick and ban",
    async (body) => {
      if (!body.contains(form)) fill(body, form, h("h3", {}, "Active bans"), bans);
      const reply = await call<{ bans: Ban[] }>("GET", `${ctx.path}/bans`, { auth: auth(ctx.session) });
      if (!reply.ok) return fill(bans, renderReply(reply));
      fill(
        bans,
        table(
          ["User", "Until", "Reason", "Banned by", ""],
          reply.body.bans.map((b) => [
            userCell(b.userId),
            time(b.until),
            b.reason ?? "—",
            userCell(b.bannedBy),
            button(
              "Unban",
              () =>
                void call("DELETE", `${ctx.path}/bans/${encodeURIComponent(b.userId)}`, {
                  auth: auth(ctx.session),
                }).then((r) => {
                  fill(out, renderReply(r));
                  ctx.changed("moderation", "audit");
                }),
              { "aria-label": `Unban ${usernameOf(b.userId) ?? b.userId}` },
            ),
          ]),
          "Nobody is banned from this room.",
        ),
      );
    },
    {
      intro:
        "POST /rooms/{roomId}/kick: by participant, or every participant of a user; ban minutes also keep the user out.",
    },
  );
}

// ---------------------------------------------------------------------------------------------------------------

function roomPanel(ctx: RoomContext): Panel {
  const out = result();
  return panel("room", "Room and policy", async (body) => {
    const reply = await call<Room>("GET", ctx.path, { auth: auth(ctx.session) });
    if (!reply.ok) return fill(body, renderReply(reply));
    const room = reply.body;
    ctx.room = room;
    const policyForm = room.policy ? policyEditor(ctx, room.policy, out) : null;
    fill(
      body,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Room id"),
        h("dd", {}, h("code", {}, room.roomId)),
        h("dt", {}, "Stage"),
        h("dd", {}, h("code", { class: "wrap" }, room.stageArn)),
        h("dt", {}, "Name"),
        h("dd", {}, room.name || "—"),
        h("dt", {}, "Owner"),
        h("dd", {}, userCell(room.ownerId)),
        h("dt", {}, "Your role"),
        h("dd", {}, room.yourRole),
        h("dt", {}, "Live"),
        h(
          "dd",
          {},
          room.live ? `yes, session ${room.activeSessionId}` : "no",
          " ",
          h("small", {}, "(the API may report this up to 10 s late)"),
        ),
        h("dt", {}, "Created"),
        h("dd", {}, time(room.createdAt)),
      ),
      room.policy
        ? h(
            "details",
            {},
            h("summary", {}, `Policy: ${room.policy.access}, default role ${room.policy.defaultRole}`),
            json(room.policy),
            policyForm,
          )
        : h("p", { class: "empty" }, "The policy and tags are shown to moderators only."),
      h(
        "p",
        { class: "buttons" },
        button(
          "Delete room",
          () => {
            if (!confirm(`Delete room ${room.roomId}? Its IVS stage goes, and everyone on it is disconnected.`)) return;
            void call("DELETE", ctx.path, { auth: auth(ctx.session) }).then((r) => {
              if (r.ok) location.hash = "#/";
              else fill(out, renderReply(r));
            });
          },
          { class: "danger" },
        ),
      ),
      out,
    );
  });
}

function policyEditor(ctx: RoomContext, policy: Policy, out: HTMLElement): HTMLElement {
  const form = h(
    "form",
    { class: "stack-form", "aria-label": "Edit the policy" },
    h(
      "label",
      {},
      "Policy (JSON; replaces the stored one whole)",
      h("textarea", { name: "policy", rows: "12", spellcheck: "false" }, JSON.stringify(policy, null, 2)),
    ),
    h("p", { class: "buttons" }, h("button", { type: "submit" }, "Save policy")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(field(form, "policy"));
    } catch (error) {
      return fill(out, h("p", { class: "reply error", role: "alert" }, `Not JSON: ${(error as Error).message}`));
    }
    void call("PATCH", ctx.path, { auth: auth(ctx.session), body: { policy: parsed } }).then((reply) => {
      fill(out, renderReply(reply, "Policy saved."));
      if (reply.ok) ctx.changed("room", "members", "audit");
    });
  });
  return form;
}

// ---------------------------------------------------------------------------------------------------------------

interface Member {
  userId: string;
  role: string;
  addedBy: string;
  addedAt: string;
}

function membersPanel(ctx: RoomContext): Panel {
  const out = result();
  const roles = h("datalist", { id: "member-roles" });
  const form = h(
    "form",
    { class: "row-form", "aria-label": "Set a member's role" },
    h(
      "label",
      { class: "grow" },
      "User ",
      h("small", {}, "(username or id)"),
      h("input", { name: "user", required: true }),
    ),
    h(
      "label",
      {},
      "Role",
      h("input", { name: "role", required: true, list: "member-roles", value: "speaker", size: "10" }),
    ),
    roles,
    h("button", { type: "submit" }, "Set role"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      const resolved = await userIdFor(field(form, "user"));
      if ("reply" in resolved) return fill(out, renderReply(resolved.reply));
      const reply = await call("PUT", `${ctx.path}/members/${encodeURIComponent(resolved.userId)}`, {
        auth: auth(ctx.session),
        body: { role: field(form, "role") },
      });
      fill(out, renderReply(reply, `${field(form, "user")} is now ${field(form, "role")}.`));
      if (reply.ok) ctx.changed("members", "audit");
    })();
  });
  const members = h("div");
  return panel(
    "members",
    "Members",
    async (body) => {
      if (!body.contains(form)) fill(body, members, form, out);
      fill(
        roles,
        Object.keys(ctx.room.policy?.roles ?? { host: 0, speaker: 0, viewer: 0 }).map((r) => h("option", { value: r })),
      );
      const reply = await call<{ members: Member[] }>("GET", `${ctx.path}/members`, { auth: auth(ctx.session) });
      if (!reply.ok) return fill(members, renderReply(reply));
      fill(
        members,
        table(
          ["User", "Role", "Added by", "Added", ""],
          reply.body.members.map((m) => [
            userCell(m.userId),
            m.role,
            userCell(m.addedBy),
            time(m.addedAt),
            button(
              "Remove",
              () =>
                void call("DELETE", `${ctx.path}/members/${encodeURIComponent(m.userId)}`, {
                  auth: auth(ctx.session),
                }).then((r) => {
                  fill(out, renderReply(r, "Member removed."));
                  ctx.changed("members", "participants", "audit");
                }),
              { "aria-label": `Remove member ${usernameOf(m.userId) ?? m.userId}` },
            ),
          ]),
          "No members: everyone gets their role from the policy.",
        ),
      );
    },
    { intro: "Roles given to users in this room (PUT /rooms/{roomId}/members/{userId})." },
  );
}

// ---------------------------------------------------------------------------------------------------------------

function tagsPanel(ctx: RoomContext): Panel {
  const out = result();
  const form = h(
    "form",
    { class: "row-form", "aria-label": "Set a tag" },
    h("label", { class: "grow" }, "Key", h("input", { name: "key", required: true, maxlength: "128" })),
    h("label", { class: "grow" }, "Value", h("input", { name: "value", maxlength: "256" })),
    h("button", { type: "submit" }, "Set tag"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void call("PUT", `${ctx.path}/tags`, {
      auth: auth(ctx.session),
      body: { tags: { [field(form, "key")]: field(form, "value") } },
    }).then((reply) => {
      fill(out, renderReply(reply, "Tag set."));
      if (reply.ok) ctx.changed("tags", "audit");
    });
  });
  const tags = h("div");
  return panel(
    "tags",
    "Tags",
    async (body) => {
      if (!body.contains(form)) fill(body, tags, form, out);
      const reply = await call<{ tags: Record<string, string> }>("GET", `${ctx.path}/tags`, {
        auth: auth(ctx.session),
      });
      if (!reply.ok) return fill(tags, renderReply(reply));
      fill(
        tags,
        table(
          ["Key", "Value", ""],
          Object.entries(reply.body.tags).map(([key, value]) => [
            h("code", {}, key),
            value,
            button(
              "Remove",
              () =>
                void call("DELETE", `${ctx.path}/tags?keys=${encodeURIComponent(key)}`, {
                  auth: auth(ctx.session),
                }).then((r) => {
                  fill(out, renderReply(r, "Tag removed."));
                  ctx.changed("tags", "audit");
                }),
              { "aria-label": `Remove tag ${key}` },
            ),
          ]),
          "No tags.",
        ),
      );
    },
    { intro: "The IVS stage's tags (keys under stagepass: belong to the service)." },
  );
}

// ---------------------------------------------------------------------------------------------------------------

interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  target: string;
  detail?: unknown;
}

function auditPanel(ctx: RoomContext): Panel {
  return panel(
    "audit",
    "Audit trail",
    async (body) => {
      const reply = await call<{ entries: AuditEntry[]; nextToken?: string }>("GET", `${ctx.path}/audit?limit=20`, {
        auth: auth(ctx.session),
      });
      if (!reply.ok) return fill(body, renderReply(reply));
      fill(
        body,
        table(
          ["When", "Action", "Actor", "Target", "Detail"],
          reply.body.entries.map((e) => [
            time(e.at),
            h("code", { class: "action" }, e.action),
            userCell(e.actor),
            userCell(e.target),
            e.detail === undefined || e.detail === null ? "—" : h("code", { class: "wrap" }, JSON.stringify(e.detail)),
          ]),
          "Nothing yet.",
          reply.body.entries.map((e) => ({ "data-action": e.action })),
        ),
      );
    },
    { intro: "The latest 20 entries, newest first (GET /rooms/{roomId}/audit)." },
  );
}
