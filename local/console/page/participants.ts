// Who is on a room's stage. The one place that decides where that comes from: the API's
// GET /rooms/{roomId}/participants when the stack has it, else the IVS emulator's own view of the stage
// (completed with the role and display name of the tokens this page issued).
import { issued } from "./clients.ts";
import { call, isMissingRoute, type Reply } from "./http.ts";
import { auth, type Session } from "./session.ts";

export interface LiveParticipant {
  participantId: string;
  userId: string;
  displayName: string | null;
  role: string | null;
  state: "connected" | "disconnected";
  /** null when the source does not say. */
  publishing: boolean | null;
}

export interface ParticipantsView {
  source: string;
  reply: Reply;
  participants: LiveParticipant[];
}

interface ApiParticipants {
  participants: Array<{
    participantId: string;
    userId: string;
    displayName: string | null;
    role: string | null;
    state: string;
    publishing?: boolean;
  }>;
}

interface EmulatorParticipants {
  participants: Array<{
    participantId: string;
    userId: string;
    state: string;
    published?: boolean;
    publishing?: boolean;
  }>;
}

/** Set once the API answers the participants route with API Gateway's 404: then only the emulator is asked. */
let apiHasParticipants: boolean | undefined;

export async function fetchParticipants(roomId: string, session: Session, quiet: boolean): Promise<ParticipantsView> {
  const id = encodeURIComponent(roomId);
  if (apiHasParticipants !== false) {
    const reply = await call<ApiParticipants>("GET", `/rooms/${id}/participants?state=all`, {
      auth: auth(session),
      quiet,
    });
    if (!isMissingRoute(reply)) {
      apiHasParticipants = true;
      return {
        source: "GET /rooms/{roomId}/participants",
        reply,
        participants: reply.ok
          ? reply.body.participants.map((p) => ({
              ...p,
              state: p.state.toLowerCase() === "connected" ? "connected" : "disconnected",
              publishing: p.publishing ?? null,
            }))
          : [],
      };
    }
    apiHasParticipants = false;
  }
  const reply = await call<EmulatorParticipants>("GET", `/_console/ivs/stages/${id}/participants`, { quiet });
  return {
    source: "the IVS emulator (GET /_emulator/stages/{id}/participants)",
    reply,
    participants: reply.ok
      ? reply.body.participants.map((p) => {
          const mine = issued(p.participantId);
          return {
            participantId: p.participantId,
            userId: p.userId,
            displayName: mine?.displayName ?? null,
            role: mine?.role ?? null,
            state: p.state === "CONNECTED" ? "connected" : "disconnected",
            publishing: p.publishing ?? p.published ?? null,
          };
        })
      : [],
  };
}
