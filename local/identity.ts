// The offline stack's stand-in for a Cognito user pool: RS256 JWTs shaped like Cognito's id and access tokens,
// and the JWKS that verifies them. Handlers verify these with the same aws-jwt-verify Cognito verifier as in AWS.
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";

export const USERNAME_PATTERN = /^[a-zA-Z0-9._-]{1,64}$/;

export interface LoginRequest {
  username: string;
  groups?: string[];
  preferredUsername?: string;
}

export interface LoginResponse {
  idToken: string;
  accessToken: string;
  expiresIn: number;
  sub: string;
}

export interface LocalIdentity {
  region: string;
  userPoolId: string;
  clientId: string;
  issuer: string;
  jwks: { keys: Array<Record<string, unknown>> };
  login(request: LoginRequest): LoginResponse;
  /** Signs arbitrary claims with the pool's key (tests use it to forge edge cases). */
  signClaims(claims: Record<string, unknown>, header?: Record<string, unknown>): string;
  /** The users who signed in, by sub, with the groups of their latest sign-in (the pool's directory). */
  users: Map<string, { username: string; groups: string[] }>;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

/** A stable UUID-shaped `sub` derived from the username, as Cognito keeps one per user. */
export function subFor(username: string, userPoolId: string): string {
  const h = createHash("sha256").update(`${userPoolId}:${username}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function createLocalIdentity(
  opts: {
    region?: string;
    userPoolId?: string;
    clientId?: string;
    /** The pool's UsernameConfiguration.CaseSensitive (Cognito's default: true). */
    caseSensitiveUsernames?: boolean;
  } = {},
): LocalIdentity {
  const region = opts.region ?? "us-east-1";
  const userPoolId = opts.userPoolId ?? `${region}_LocalPool1`;
  const clientId = opts.clientId ?? "stagepasslocalclient0000001";
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url")
    .slice(0, 43);
  const jwk = { ...(publicKey.export({ format: "jwk" }) as Record<string, unknown>), kid, alg: "RS256", use: "sig" };

  const signWith = (key: KeyObject, claims: Record<string, unknown>, header: Record<string, unknown>): string => {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign("sha256", Buffer.from(input), key))}`;
  };
  const signClaims = (claims: Record<string, unknown>, header: Record<string, unknown> = { kid, alg: "RS256" }) =>
    signWith(privateKey, claims, header);

  const users = new Map<string, { username: string; groups: string[] }>();
  return {
    region,
    userPoolId,
    clientId,
    issuer,
    jwks: { keys: [jwk] },
    signClaims,
    users,
    login({ username, groups = [], preferredUsername }) {
      // In a case-insensitive pool, Alice and alice are one user, with one sub.
      const sub = subFor(opts.caseSensitiveUsernames === false ? username.toLowerCase() : username, userPoolId);
      users.set(sub, { username, groups: [...groups] });
      const now = Math.floor(Date.now() / 1000);
      const expiresIn = 3600;
      const common = {
        sub,
        iss: issuer,
        ...(groups.length > 0 ? { "cognito:groups": groups } : {}),
        auth_time: now,
        iat: now,
        exp: now + expiresIn,
        jti: randomUUID(),
        origin_jti: randomUUID(),
        event_id: randomUUID(),
      };
      const idToken = signClaims({
        ...common,
        aud: clientId,
        token_use: "id",
        "cognito:username": username,
        ...(preferredUsername ? { preferred_username: preferredUsername } : {}),
      });
      const accessToken = signClaims({
        ...common,
        client_id: clientId,
        token_use: "access",
        scope: "aws.cognito.signin.user.admin",
        username,
      });
      return { idToken, accessToken, expiresIn, sub };
    },
  };
}

/**
 * The two Cognito user-pool operations stagepass calls (ListUsers filtered by sub, AdminListGroupsForUser), over
 * Cognito's JSON protocol, answered from the users who signed in. Returns false for a request that is not one of them.
 */
export function answerCognito(
  identity: LocalIdentity,
  target: string,
  body: string,
  reply: (status: number, value: unknown) => void,
): boolean {
  const op = target.replace("AWSCognitoIdentityProviderService.", "");
  if (op !== "ListUsers" && op !== "AdminListGroupsForUser") return false;
  let input: { UserPoolId?: string; Filter?: string; Username?: string };
  try {
    input = JSON.parse(body || "{}");
  } catch {
    reply(400, { __type: "InvalidParameterException", message: "bad JSON" });
    return true;
  }
  if (input.UserPoolId !== identity.userPoolId) {
    reply(400, { __type: "ResourceNotFoundException", message: "User pool does not exist." });
    return true;
  }
  if (op === "ListUsers") {
    const sub = /^sub = "([^"]*)"$/.exec(input.Filter ?? "")?.[1];
    if (sub === undefined) {
      reply(400, { __type: "InvalidParameterException", message: "only a sub filter is supported locally" });
      return true;
    }
    const user = identity.users.get(sub);
    reply(200, {
      Users: user
        ? [
            {
              Username: user.username,
              Attributes: [{ Name: "sub", Value: sub }],
              Enabled: true,
              UserStatus: "CONFIRMED",
            },
          ]
        : [],
    });
    return true;
  }
  const found = [...identity.users.values()].find((u) => u.username === input.Username);
  if (!found) {
    reply(400, { __type: "UserNotFoundException", message: "User does not exist." });
    return true;
  }
  reply(200, { Groups: found.groups.map((GroupName) => ({ GroupName, UserPoolId: identity.userPoolId })) });
  return true;
}
