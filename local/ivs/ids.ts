/** Random identifiers shaped like the service's own. */
import { randomInt, randomUUID } from "node:crypto";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_HEX = "0123456789abcdef";

function randomFrom(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet.charAt(randomInt(alphabet.length));
  return out;
}

/** 12 alphanumerics: stage ids, public-key ids, participant ids (no `_`, see SOURCES: newer APIs reject it). */
export const randomResourceId = (): string => randomFrom(ALPHANUMERIC, 12);

/** `st-` + 13 alphanumerics (16 characters), the service's stage session id. */
export const randomSessionId = (): string => `st-${randomFrom(ALPHANUMERIC, 13)}`;

/** The host label of a stage's WHIP / RTMP(S) endpoints. */
export const randomEndpointLabel = (): string => randomFrom(LOWER_HEX, 12);

export const randomRequestId = (): string => randomUUID();
