// Local users signed in through the stack's POST /dev/login. Several can be signed in at once (the room's owner,
// a guest, an admin) and the page switches between them; they live in sessionStorage, so a reload keeps them.
import { call, type Reply } from "./http.ts";

export interface Session {
  username: string;
  sub: string;
  idToken: string;
  groups: string[];
  displayName: string | null;
  expiresAt: number;
}

interface LoginBody {
  idToken: string;
  sub: string;
  expiresIn: number;
}

const STORE = "stagepass-console.sessions";
const USERS = "stagepass-console.users";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const stored = read<{ sessions: Session[]; current: string | null }>(STORE, { sessions: [], current: null });
let sessions = stored.sessions.filter((s) => s.expiresAt > Date.now() + 60_000);
let current = sessions.some((s) => s.username === stored.current) ? stored.current : (sessions[0]?.username ?? null);
/** sub → username, for every user this page signed in or looked up: tables show names, not UUIDs. */
const usernames = new Map<string, string>(read<Array<[string, string]>>(USERS, []));
const listeners = new Set<() => void>();

export function currentSession(): Session | undefined {
  return sessions.find((s) => s.username === current);
}

export function allSessions(): readonly Session[] {
  return sessions;
}

export function onSessionChange(listener: () => void): void {
  listeners.add(listener);
}

export async function signIn(username: string, groups: string[], displayName: string): Promise<Reply<LoginBody>> {
  const reply = await call<LoginBody>("POST", "/dev/login", {
    body: {
      username,
      ...(groups.length ? { groups } : {}),
      ...(displayName ? { preferredUsername: displayName } : {}),
    },
  });
  if (reply.ok) {
    const session: Session = {
      username,
      sub: reply.body.sub,
      idToken: reply.body.idToken,
      groups,
      displayName: displayName || null,
      expiresAt: Date.now() + reply.body.expiresIn * 1000,
    };
    sessions = [...sessions.filter((s) => s.username !== username), session];
    current = username;
    remember(reply.body.sub, username);
    changed();
  }
  return reply;
}

export function switchTo(username: string): void {
  if (sessions.some((s) => s.username === username)) {
    current = username;
    changed();
  }
}

export function signOut(): void {
  sessions = sessions.filter((s) => s.username !== current);
  current = sessions[0]?.username ?? null;
  changed();
}

/** The JWT to send, for `call(…, { auth })`. */
export function auth(session: Session): { idToken: string; username: string } {
  return { idToken: session.idToken, username: session.username };
}

/** A user id (sub) from what a person types: a sub as is, a username through the local identity (its sub is stable). */
export async function userIdFor(input: string): Promise<{ userId: string } | { reply: Reply }> {
  if (UUID.test(input)) return { userId: input.toLowerCase() };
  const known = [...usernames].find(([, name]) => name === input);
  if (known) return { userId: known[0] };
  const reply = await call<LoginBody>("POST", "/dev/login", { body: { username: input } });
  if (!reply.ok) return { reply };
  remember(reply.body.sub, input);
  return { userId: reply.body.sub };
}

export function usernameOf(sub: string): string | undefined {
  return usernames.get(sub);
}

function remember(sub: string, username: string) {
  usernames.set(sub, username);
  write(USERS, [...usernames]);
}

function changed() {
  write(STORE, { sessions, current });
  for (const listener of listeners) listener();
}

function read<T>(key: string, fallback: T): T {
  try {
    const text = sessionStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

function write(key: string, value: unknown) {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: the page still works until reload */
  }
}
