// The webhooks the offline stack has sent, when it sends any: what GET /dev/webhooks lists. A stack without that
// route (webhooks not configured, or not built yet) answers API Gateway's 404, shown as "off".
import { fill, h, json, time } from "./dom.ts";
import { call, isMissingRoute } from "./http.ts";
import { panel, table, type Panel } from "./panel.ts";
import { renderReply } from "./reply.ts";
import { auth, type Session } from "./session.ts";

interface Delivery {
  type?: string;
  id?: string;
  timestamp?: string;
  status?: number | string;
  attempts?: number;
  data?: { roomId?: string };
}

/** The deliveries about one room (those whose data names another room are left out). */
export function webhooksPanel(session: Session, roomId: string): Panel {
  return panel(
    "webhooks",
    "Webhooks",
    async (body) => {
      const reply = await call<Record<string, unknown>>("GET", "/dev/webhooks", { auth: auth(session) });
      if (isMissingRoute(reply)) {
        return fill(
          body,
          h(
            "p",
            { class: "empty" },
            "Webhooks are off: start the stack with ",
            h("code", {}, "WEBHOOK_URL=http://… npm start"),
            " to have them sent and listed here.",
          ),
        );
      }
      if (!reply.ok) return fill(body, renderReply(reply));
      // The first list in the body is the deliveries; anything else is shown as it came.
      const all = Object.values(reply.body ?? {}).find(Array.isArray) as Delivery[] | undefined;
      if (!all) return fill(body, json(reply.body));
      const list = all.filter((d) => d.data?.roomId === undefined || d.data.roomId === roomId);
      fill(
        body,
        table(
          ["When", "Type", "Status", "Attempts", "Data"],
          list.map((d) => [
            time(d.timestamp),
            h("code", { class: "action", title: d.id ?? "" }, d.type ?? "—"),
            String(d.status ?? "—"),
            String(d.attempts ?? "—"),
            h("code", { class: "wrap" }, JSON.stringify(d.data ?? d)),
          ]),
          "No webhook about this room yet.",
        ),
      );
    },
    { intro: "What the stack sent to WEBHOOK_URL about this room (GET /dev/webhooks)." },
  );
}
