// AWS Signature Version 4 for a request with a string body and no query string: what the JSON APIs the token path
// calls need. tests/unit/lite-aws.test.ts checks the signatures against the AWS SDK's own signer (@smithy/signature-v4).
//
// An operation's method, host, path and headers do not change from one request to the next, so `prepare` builds
// their canonical form once; each request then costs two SHA-256 hashes and one HMAC (the signing key is derived
// once a day, the timestamp formatted once a second).
import { createHmac, hash } from "node:crypto";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigningScope {
  region: string;
  /** The service's signing name, e.g. `dynamodb`, `ivs`, `secretsmanager`. */
  service: string;
}

export interface RequestShape {
  method: string;
  host: string;
  /** As sent on the wire (percent-encoded). */
  path: string;
  headers: Record<string, string>;
}

const sha256Hex = (data: string) => hash("sha256", data, "hex");

/** RFC 3986 encoding of one path segment. */
const encodeSegment = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** The canonical path of a path as sent (already percent-encoded): encoded once more, as non-S3 services want. */
export const canonicalPath = (path: string) => path.split("/").map(encodeSegment).join("/");

/** One operation's request, signed per body. */
export interface PreparedRequest {
  /**
   * The headers to send: the operation's headers plus `x-amz-date`, `x-amz-security-token` (with a session token)
   * and `authorization`. Every header of the operation is signed, with the request's host.
   */
  sign(body: string, now?: number): Record<string, string>;
}

export interface Signer {
  prepare(shape: RequestShape): PreparedRequest;
  /** `prepare(req).sign(req.body, now)`, for a request sent once. */
  sign(req: RequestShape & { body: string }, now?: Date): Record<string, string>;
}

/** `20261126T235958Z` for the second `epochSecond`. */
const amzDateOf = (epochSecond: number) =>
  new Date(epochSecond * 1000)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

export function createSigner(credentials: Credentials, scope: SigningScope): Signer {
  // The signing key and the credential scope change once a day; the timestamp once a second.
  let keyDate = "";
  let key = Buffer.alloc(0);
  let credentialScope = "";
  let second = Number.NaN;
  let amzDate = "";
  const hmac = (k: string | Buffer, data: string) => createHmac("sha256", k).update(data, "utf8").digest();
  const clock = (nowMs: number) => {
    const s = Math.floor(nowMs / 1000);
    if (s !== second) {
      second = s;
      amzDate = amzDateOf(s);
      const date = amzDate.slice(0, 8);
      if (date !== keyDate) {
        key = hmac(
          hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), scope.region), scope.service),
          "aws4_request",
        );
        credentialScope = `${date}/${scope.region}/${scope.service}/aws4_request`;
        keyDate = date;
      }
    }
  };

  const prepare = (shape: RequestShape): PreparedRequest => {
    const fixed: Record<string, string> = { ...shape.headers };
    if (credentials.sessionToken) fixed["x-amz-security-token"] = credentials.sessionToken;
    // Canonical headers: lower-case names, sorted, values trimmed with inner runs of spaces folded. x-amz-date is
    // the one that changes, so the canonical request is the text before it, the date, and the text after it.
    const canonical = new Map<string, string>([["host", shape.host.trim().replace(/\s+/g, " ")]]);
    for (const [name, value] of Object.entries(fixed))
      canonical.set(name.toLowerCase(), value.trim().replace(/\s+/g, " "));
    canonical.set("x-amz-date", "");
    const names = [...canonical.keys()].sort();
    const signedHeaders = names.join(";");
    const dateAt = names.indexOf("x-amz-date");
    const lines = (from: number, to: number) =>
      names
        .slice(from, to)
        .map((n) => `${n}:${canonical.get(n)}\n`)
        .join("");
    const before = `${shape.method}\n${canonicalPath(shape.path)}\n\n${lines(0, dateAt)}x-amz-date:`;
    const after = `\n${lines(dateAt + 1, names.length)}\n${signedHeaders}\n`;
    const credentialPrefix = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/`;
    const signedSuffix = `, SignedHeaders=${signedHeaders}, Signature=`;
    return {
      sign(body, now = Date.now()) {
        clock(now);
        const canonicalRequest = before + amzDate + after + sha256Hex(body);
        const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${credentialScope}\n${sha256Hex(canonicalRequest)}`;
        const signature = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
        const headers: Record<string, string> = { ...fixed };
        headers["x-amz-date"] = amzDate;
        headers.authorization = credentialPrefix + credentialScope + signedSuffix + signature;
        return headers;
      },
    };
  };

  return { prepare, sign: (req, now = new Date()) => prepare(req).sign(req.body, now.getTime()) };
}
