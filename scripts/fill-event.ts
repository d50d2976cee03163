// Fills the placeholders of an events/*.json file and prints the event, for
// `sam local invoke <Function> -e - --env-vars env.json`:
//
//   npx tsx scripts/fill-event.ts events/token-post-200.json | sam local invoke TokenFunction -e - --env-vars env.json
//
// Placeholders: {{idToken}} (a user, "alice" on the offline stack), {{adminIdToken}} (a member of the admin group)
// and {{roomId}} (a room alice owns). By default they come from the offline stack at API (default
// http://127.0.0.1:3000): it signs alice and an admin in with POST /dev/login and creates a fresh room. To invoke
// against a deployed pool and table instead, set ID_TOKEN, ADMIN_ID_TOKEN and ROOM_ID.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface EventValues {
  idToken: string;
  adminIdToken: string;
  roomId: string;
  /** Where a custom resource handler PUTs its answer to CloudFormation (RESPONSE_URL). */
  responseUrl: string;
}

const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** The placeholders an event uses. */
export function placeholdersOf(event: unknown): string[] {
  return [...new Set([...JSON.stringify(event).matchAll(PLACEHOLDER)].map((m) => m[1]!))].sort();
}

/** Replaces every `{{name}}` in every string of the event (keys included); an unknown name is an error. */
export function fillEvent<T>(event: T, values: Partial<EventValues>): T {
  const fill = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.replace(PLACEHOLDER, (_, name: string) => {
        const v = (values as Record<string, string | undefined>)[name];
        if (v === undefined) throw new Error(`no value for the placeholder {{${name}}}`);
        return v;
      });
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [fill(k), fill(v)]));
    return value;
  };
  return fill(event) as T;
}

/** Signs in on the offline stack and creates a room, for the placeholders `needed`. */
export async function valuesFromOfflineStack(api: string, needed: string[]): Promise<Partial<EventValues>> {
  const call = async (method: string, path: string, body: unknown, token?: string) => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, string>;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const values: Partial<EventValues> = {};
  if (needed.includes("idToken") || needed.includes("roomId"))
    values.idToken = (await call("POST", "/dev/login", { username: "alice" })).idToken!;
  if (needed.includes("adminIdToken"))
    values.adminIdToken = (await call("POST", "/dev/login", { username: "root", groups: ["admin"] })).idToken!;
  if (needed.includes("roomId"))
    values.roomId = (
      await call("POST", "/rooms", { name: "sam-local", title: "For sam local invoke" }, values.idToken)
    ).roomId!;
  return values;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error(
      "usage: npx tsx scripts/fill-event.ts events/<file>.json   (API, ID_TOKEN, ADMIN_ID_TOKEN, ROOM_ID, RESPONSE_URL from the environment)",
    );
    process.exit(2);
  }
  const event = JSON.parse(readFileSync(file, "utf8")) as unknown;
  const needed = placeholdersOf(event);
  const given: Partial<EventValues> = {
    ...(process.env.ID_TOKEN ? { idToken: process.env.ID_TOKEN } : {}),
    ...(process.env.ADMIN_ID_TOKEN ? { adminIdToken: process.env.ADMIN_ID_TOKEN } : {}),
    ...(process.env.ROOM_ID ? { roomId: process.env.ROOM_ID } : {}),
    ...(process.env.RESPONSE_URL ? { responseUrl: process.env.RESPONSE_URL } : {}),
  };
  const missing = needed.filter((n) => !(n in given));
  const fetched = missing.length
    ? await valuesFromOfflineStack(process.env.API ?? "http://127.0.0.1:3000", missing)
    : {};
  process.stdout.write(`${JSON.stringify(fillEvent(event, { ...fetched, ...given }), null, 2)}\n`);
}
