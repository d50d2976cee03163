/** ES384 (ECDSA P-384, SHA-384) JSON Web Tokens with node:crypto only. */
import { createHash, generateKeyPairSync, sign, verify } from "node:crypto";
import type { JsonWebKey, KeyObject } from "node:crypto";

export interface JwtHeader {
  alg: string;
  typ?: string;
  kid?: string;
  [other: string]: unknown;
}

export type JwtClaims = Record<string, unknown>;

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

/** An ES384 signature in JOSE (IEEE P1363) form: r || s, 48 bytes each. */
const ES384_SIGNATURE_BYTES = 96;
const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]*$/;

const encodeSegment = (value: unknown): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

export function signEs384Jwt(header: JwtHeader, claims: JwtClaims, privateKey: KeyObject): string {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(claims)}`;
  const signature = sign("sha384", Buffer.from(signingInput, "ascii"), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${signature.toString("base64url")}`;
}

function parseSegment(segment: string): Record<string, unknown> | undefined {
  if (segment.length === 0 || !BASE64URL_SEGMENT.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Splits and parses a compact JWS without checking the signature; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
  const header = parseSegment(headerPart);
  const claims = parseSegment(claimsPart);
  if (!header || !claims || typeof header.alg !== "string") return undefined;
  if (!BASE64URL_SEGMENT.test(signaturePart)) return undefined;
  return {
    header: header as JwtHeader,
    claims,
    signingInput: `${headerPart}.${claimsPart}`,
    signature: Buffer.from(signaturePart, "base64url"),
  };
}

/** True when the token is ES384 and its signature verifies with `publicKey`. */
export function verifyEs384(decoded: DecodedJwt, publicKey: KeyObject): boolean {
  if (decoded.header.alg !== "ES384" || decoded.signature.length !== ES384_SIGNATURE_BYTES) return false;
  try {
    return verify(
      "sha384",
      Buffer.from(decoded.signingInput, "ascii"),
      { key: publicKey, dsaEncoding: "ieee-p1363" },
      decoded.signature,
    );
  } catch {
    return false;
  }
}

/** True for an EC public key on P-384 (secp384r1), the only kind IVS accepts for self-signed tokens. */
export function isP384PublicKey(key: KeyObject): boolean {
  return (
    key.type === "public" && key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "secp384r1"
  );
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an EC public key. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash("sha256").update(canonical).digest("base64url");
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key. */
  publicKeyPem: string;
  /** Public JWK with `kid`, `alg`, `use`. */
  jwk: JsonWebKey & { kid: string; alg: "ES384"; use: "sig" };
  kid: string;
}

/** A fresh P-384 key pair; its `kid` is the RFC 7638 thumbprint, so it is stable for the key's lifetime. */
export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const publicJwk = publicKey.export({ format: "jwk" });
  const kid = `ivs-emulator-${jwkThumbprint(publicJwk)}`;
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    jwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid, alg: "ES384", use: "sig" },
    kid,
  };
}
