// Bearer JWT → Caller, with aws-jwt-verify's Cognito verifier. The JWKS is fetched once per container, at init;
// only where it comes from can be changed (JWKS_URI, used by the offline stack's local identity).
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { FetchError, JwksNotAvailableInCacheError, JwtBaseError, KidNotFoundInJwksError } from "aws-jwt-verify/error";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import { SimpleFetcher } from "aws-jwt-verify/https";
import type { Config } from "../config.ts";
import { UnauthorizedError, UpstreamUnavailableError } from "../errors.ts";
import { logger } from "../logger.ts";
import { callerFromClaims, type Caller } from "./caller.ts";

export interface Authenticator {
  authenticate(headers: Record<string, string>): Promise<Caller>;
}

/** Larger Authorization headers are refused before any parsing. Cognito's tokens are far smaller. */
export const MAX_JWT_LENGTH = 8 * 1024;
/** Clock skew tolerated for `iat` in the future. */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * Fetches the user pool's JWKS from `jwksUri` (Cognito's well-known URL unless configured otherwise). The
 * library's fetcher speaks https only; a plain-http URI (the offline stack's identity) is fetched with fetch().
 */
class JwksFetcher extends SimpleFetcher {
  constructor(private readonly jwksUri: string) {
    super();
  }
  override async fetch(
    _uri: string,
    ...rest: Parameters<SimpleFetcher["fetch"]> extends [string, ...infer R] ? R : never
  ) {
    if (!this.jwksUri.startsWith("http:")) return super.fetch(this.jwksUri, ...rest);
    let response: Response;
    try {
      response = await fetch(this.jwksUri, { signal: AbortSignal.timeout(3_000) });
    } catch (error) {
      throw new FetchError(this.jwksUri, (error as Error).message);
    }
    if (!response.ok) throw new FetchError(this.jwksUri, `status ${response.status}`);
    return response.arrayBuffer();
  }
}

export function createCognitoAuthenticator(config: Config): Authenticator & { ready: Promise<void> } {
  const regionIssuer = `https://cognito-idp.${config.userPoolId.split("_")[0]}.amazonaws.com/${config.userPoolId}`;
  const jwksUri = config.jwksUri ?? `${regionIssuer}/.well-known/jwks.json`;
  const fetcher = new JwksFetcher(jwksUri);
  const verifier = CognitoJwtVerifier.create(
    { userPoolId: config.userPoolId, tokenUse: config.tokenUse, clientId: config.userPoolClientIds },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
  // One fetch of the JWKS for the container, shared by both issuer spellings Cognito uses.
  const ready = fetcher
    .fetch(jwksUri)
    // cacheJwks() with no pool id caches the JWKS for both issuer spellings of the one pool.
    .then((body) => verifier.cacheJwks(JSON.parse(new TextDecoder().decode(body))))
    // Not fatal at init: verify() fetches on demand and answers 503 if the JWKS still cannot be had.
    .catch((error: unknown) =>
      logger.warn("the user pool's JWKS could not be fetched at init", { error: (error as Error).message }),
    );

  /**
   * The JWKS is cached at init, so the JWT is checked synchronously (no promise per step); only when the keys are not
   * cached yet, or the JWT names a key they lack (the pool's keys changed), does verify() fetch them. Both check the
   * same signature and claims.
   */
  const verifyWithCachedKeys = (jwt: string): Record<string, unknown> | undefined => {
    try {
      return verifier.verifySync(jwt) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof JwksNotAvailableInCacheError || error instanceof KidNotFoundInJwksError) return undefined;
      throw error;
    }
  };

  return {
    ready,
    async authenticate(headers) {
      const header = headers.authorization;
      if (!header) throw new UnauthorizedError("missing Authorization: Bearer <jwt> header");
      const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
      if (!match) throw new UnauthorizedError("the Authorization header must be Bearer <jwt>");
      const jwt = match[1]!;
      if (jwt.length > MAX_JWT_LENGTH) throw new UnauthorizedError("the JWT is too large");
      let claims: Record<string, unknown>;
      try {
        claims = verifyWithCachedKeys(jwt) ?? ((await verifier.verify(jwt)) as Record<string, unknown>);
      } catch (error) {
        if (error instanceof FetchError)
          throw new UpstreamUnavailableError("the user pool's keys could not be fetched", 5, { cause: error });
        if (error instanceof JwtBaseError)
          throw new UnauthorizedError(`the JWT is not valid: ${error.message}`, { cause: error });
        throw new UnauthorizedError("the JWT is not valid", { cause: error });
      }
      // aws-jwt-verify checks exp only when present; Cognito always sets it, so a token without one is not Cognito's.
      if (typeof claims.exp !== "number") throw new UnauthorizedError("the JWT has no exp claim");
      const iat = claims.iat;
      if (typeof iat === "number" && iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) {
        throw new UnauthorizedError("the JWT was issued in the future");
      }
      if (typeof claims.sub !== "string" || !/^[a-zA-Z0-9-]{1,64}$/.test(claims.sub)) {
        throw new UnauthorizedError("the JWT has no usable sub claim");
      }
      return callerFromClaims(claims, config.adminGroup);
    },
  };
}
