// A throwaway certificate for the stub, so that the handlers reach it the way they reach AWS: https for the SDK
// clients and aws-jwt-verify's https fetcher for the JWKS (trusted through NODE_EXTRA_CA_CERTS), not the plain-http
// branches only the offline stack uses (node:http imported by the SDK, fetch() for the JWKS: both load undici in an
// ES module). Needs the openssl CLI; without it the bench falls back to http and says so.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface StubTls {
  key: string;
  cert: string;
  /** PEM file of the certificate, for NODE_EXTRA_CA_CERTS. */
  certPath: string;
}

export function throwawayTls(dir: string): { tls?: StubTls; note?: string } {
  mkdirSync(dir, { recursive: true });
  const keyPath = join(dir, "stub-key.pem");
  const certPath = join(dir, "stub-cert.pem");
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        keyPath,
        "-out",
        certPath,
      ],
      { stdio: "pipe" },
    );
    return { tls: { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8"), certPath } };
  } catch (error) {
    return {
      note: `stub served over plain http (openssl unavailable: ${(error as Error).message.split("\n")[0]}): the ESM bundles then also load undici (node:http, fetch()), which they do not in AWS`,
    };
  }
}
