// AWS Signature Version 4 for a request with a string body and no query string: what the JSON APIs the token path
// calls need. tests/lite-aws.test.ts checks the signatures against the AWS SDK's own signer (@smithy/signature-v4).
import { createHash, createHmac } from "node:crypto";

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

const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();
const sha256Hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");

/** RFC 3986 encoding of one path segment. */
const encodeSegment = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** The canonical path of a path as sent (already percent-encoded): encoded once more, as non-S3 services want. */
export const canonicalPath = (path: string) => path.split("/").map(encodeSegment).join("/");

export interface Signer {
  /**
   * The headers to send: `headers` plus `x-amz-date`, `x-amz-security-token` (with a session token) and
   * `authorization`. Every header given is signed, with the request's host.
   */
  /** `path` as sent on the wire (percent-encoded). */
  sign(req: { method: string; host: string; path: string; headers: Record<string, string>; body: string }, now?: Date): Record<string, string>;
}

export function createSigner(credentials: Credentials, scope: SigningScope): Signer {
  // The signing key changes once a day; derive it once per day rather than per request.
  let keyDate = "";
  let key = Buffer.alloc(0);
  const signingKey = (date: string) => {
    if (date !== keyDate) {
      key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), scope.region), scope.service), "aws4_request");
      keyDate = date;
    }
    return key;
  };
  return {
    sign(req, now = new Date()) {
      const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
      const date = amzDate.slice(0, 8);
      const headers: Record<string, string> = { ...req.headers, "x-amz-date": amzDate };
      if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
      const signed: Record<string, string> = { ...headers, host: req.host };
      const names = Object.keys(signed).map((n) => n.toLowerCase()).sort();
      const lower: Record<string, string> = {};
      for (const [n, v] of Object.entries(signed)) lower[n.toLowerCase()] = v.trim().replace(/\s+/g, " ");
      let canonicalHeaders = "";
      for (const n of names) canonicalHeaders += `${n}:${lower[n]}\n`;
      const signedHeaders = names.join(";");
      const canonical = `${req.method}\n${canonicalPath(req.path)}\n\n${canonicalHeaders}\n${signedHeaders}\n${sha256Hex(req.body)}`;
      const credentialScope = `${date}/${scope.region}/${scope.service}/aws4_request`;
      const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${credentialScope}\n${sha256Hex(canonical)}`;
      const signature = createHmac("sha256", signingKey(date)).update(toSign, "utf8").digest("hex");
      headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
      return headers;
    },
  };
}
