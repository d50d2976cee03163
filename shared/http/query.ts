// Query parameters and opaque pagination cursors.
import { ValidationError } from "../errors.ts";
import { isPlainObject } from "../validation.ts";

export function limitParam(query: Record<string, string>, defaultLimit: number, max = 100): number {
  const raw = query.limit;
  if (raw === undefined) return defaultLimit;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new ValidationError([{ path: "/query/limit", message: `must be an integer from 1 to ${max}` }]);
  }
  return Number(raw);
}

/** Cursors are base64url JSON with a version; clients must treat them as opaque. */
export function encodeCursor(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ v: 1, ...value })).toString("base64url");
}

export function decodeCursor<T>(
  token: string | undefined,
  check: (value: Record<string, unknown>) => T | undefined,
): T | undefined {
  if (token === undefined) return undefined;
  const invalid = () =>
    new ValidationError([{ path: "/query/nextToken", message: "is not a token this API handed out" }]);
  if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!isPlainObject(value) || value.v !== 1) throw invalid();
  const out = check(value);
  if (out === undefined) throw invalid();
  return out;
}
