// The IVS Real-Time emulator as its tests (tests/integration/ivs-emulator*.test.ts) drive it: the unmodified AWS SDK
// client, raw HTTP for the emulator's own routes, ARN shapes, AWS errors, and ES384 tokens.
import { generateKeyPairSync, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { expect } from "vitest";
import type { IvsEmulator } from "../../local/ivs/index.ts";
// Helpers
// -----------------------------------------------------------------------------------------------------------------

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const STAGE_ARN = /^arn:aws:ivs:us-east-1:123456789012:stage\/[a-zA-Z0-9]{12}$/;
export const PUBLIC_KEY_ARN = /^arn:aws:ivs:us-east-1:123456789012:public-key\/[a-zA-Z0-9]{12}$/;
export const SESSION_ID = /^st-[a-zA-Z0-9]{13}$/;
export const STAGE_PREFIX = `arn:aws:ivs:${REGION}:${ACCOUNT}:stage/`;
export const KEY_PREFIX = `arn:aws:ivs:${REGION}:${ACCOUNT}:public-key/`;
export const UNKNOWN_STAGE = `${STAGE_PREFIX}AAAAAAAAAAAA`;
export const UNKNOWN_KEY = `${KEY_PREFIX}AAAAAAAAAAAA`;

export function clientFor(emu: IvsEmulator): IVSRealTimeClient {
  return new IVSRealTimeClient({
    endpoint: emu.url,
    region: REGION,
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
    maxAttempts: 1,
  });
}

export interface AwsErrorLike {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

export async function errorOf(promise: Promise<unknown>): Promise<AwsErrorLike> {
  try {
    await promise;
  } catch (error) {
    return error as AwsErrorLike;
  }
  throw new Error("expected the call to fail");
}

export async function expectAwsError(promise: Promise<unknown>, name: string, status: number): Promise<AwsErrorLike> {
  const error = await errorOf(promise);
  expect({ name: error.name, status: error.$metadata?.httpStatusCode }).toEqual({ name, status });
  return error;
}

export async function http<T = unknown>(
  emu: IvsEmulator,
  method: string,
  path: string,
  body?: unknown,
  rawBody?: string,
): Promise<{ status: number; headers: Headers; json: T }> {
  const init: RequestInit = { method };
  if (body !== undefined || rawBody !== undefined) {
    init.body = rawBody ?? JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(`${emu.url}${path}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json: json as T };
}

export const join = (emu: IvsEmulator, token: string) => http(emu, "POST", "/_emulator/join", { token });

export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h!, "base64url").toString("utf8")) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(c!, "base64url").toString("utf8")) as Record<string, unknown>,
  };
}

export function signEs384(
  privateKey: KeyObject,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const signature = sign("sha384", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

export function p384(): { privateKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  return { privateKey, pem: publicKey.export({ format: "pem", type: "spki" }).toString() };
}

export const stageIdOf = (arn: string): string => arn.slice(arn.lastIndexOf("/") + 1);

export const repeat = (n: number, c = "a"): string => c.repeat(n);
export const tagsOf = (n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));
