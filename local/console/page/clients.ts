// Simulated IVS clients: a participant token the page got from the API, and what an IVS client does with it —
// join, publish, unpublish, leave, exchange — played against the emulator's `/_emulator/` routes.
import { call, type Reply } from "./http.ts";
import { auth, type Session } from "./session.ts";

/** The body of POST /rooms/{roomId}/token. */
export interface TokenBody {
  token: string;
  participantId: string;
  roomId: string;
  userId: string;
  role: string;
  capabilities: string[];
  durationMinutes: number;
  expirationTime: string;
  attributes: Record<string, string>;
}

export type ClientAction = "join" | "publish" | "unpublish" | "leave";

export interface SimulatedClient {
  participantId: string;
  roomId: string;
  token: string;
  /** Who asked for the token (a username). */
  issuedTo: string;
  role: string;
  capabilities: string[];
  displayName: string | null;
  expirationTime: string;
  /** What this page last saw the client do: issued, joined, publishing, left, refused. */
  status: string;
}

const STORE = "stagepass-console.clients";
const clients: SimulatedClient[] = (() => {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) ?? "[]") as SimulatedClient[];
  } catch {
    return [];
  }
})();

function save() {
  try {
    sessionStorage.setItem(STORE, JSON.stringify(clients));
  } catch {
    /* the page still works until reload */
  }
}

export function addClient(token: TokenBody, issuedTo: string): SimulatedClient {
  const client: SimulatedClient = {
    participantId: token.participantId,
    roomId: token.roomId,
    token: token.token,
    issuedTo,
    role: token.role,
    capabilities: token.capabilities,
    displayName: token.attributes.displayName ?? null,
    expirationTime: token.expirationTime,
    status: "token issued",
  };
  clients.unshift(client);
  save();
  return client;
}

export function clientsOf(roomId: string): SimulatedClient[] {
  return clients.filter((c) => c.roomId === roomId);
}

export function forget(client: SimulatedClient): void {
  const at = clients.indexOf(client);
  if (at >= 0) clients.splice(at, 1);
  save();
}

/** Role and display name of a participant whose token this page issued (the emulator's view has neither). */
export function issued(participantId: string): SimulatedClient | undefined {
  return clients.find((c) => c.participantId === participantId);
}

const AFTER: Record<ClientAction, string> = {
  join: "joined",
  publish: "publishing",
  unpublish: "joined",
  leave: "left",
};

export async function act(client: SimulatedClient, action: ClientAction): Promise<Reply> {
  const body = action === "join" ? { token: client.token } : { participantId: client.participantId };
  const reply = await call("POST", `/_console/ivs/${action}`, { body });
  if (reply.ok) client.status = AFTER[action];
  else if (action === "join" && (reply.status === 401 || reply.status === 403)) client.status = "refused";
  save();
  return reply;
}

/**
 * Token exchange (promote or demote without leaving): a new token for the same participant from the API, then
 * the client hands it to IVS. Needs the API's exchange route and a self-signed token mode.
 */
export async function exchange(client: SimulatedClient, session: Session): Promise<Reply> {
  const fresh = await call<TokenBody>("POST", `/rooms/${client.roomId}/participants/${client.participantId}/token`, {
    auth: auth(session),
  });
  if (!fresh.ok) return fresh; // API Gateway's 404 where the stack has no exchange route; 409 in the api token mode
  const reply = await call("POST", "/_console/ivs/exchange", {
    body: { participantId: client.participantId, token: fresh.body.token },
  });
  if (reply.ok) {
    client.token = fresh.body.token;
    client.role = fresh.body.role;
    client.capabilities = fresh.body.capabilities;
    client.expirationTime = fresh.body.expirationTime;
    client.displayName = fresh.body.attributes.displayName ?? client.displayName;
    save();
  }
  return reply;
}
