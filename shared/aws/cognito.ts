// Whether a user is in a Cognito group, by `sub`: what the moderation rules need when the user is not the caller
// (an admin is known from their JWT only when they are the one calling). Failures map to 429/503.
import {
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { RateLimitedError, UpstreamUnavailableError } from "../errors.ts";

export function createCognitoClient(): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_500 },
  });
}

/** True when the user whose `sub` is given belongs to `group`; false for a user the pool does not know. */
export async function isInGroup(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  sub: string,
  group: string,
): Promise<boolean> {
  try {
    // The sub is checked by the caller to be [a-zA-Z0-9-]: nothing in it can break out of the filter's quotes.
    const found = await client.send(
      new ListUsersCommand({ UserPoolId: userPoolId, Filter: `sub = "${sub}"`, Limit: 1 }),
    );
    const username = found.Users?.[0]?.Username;
    if (!username) return false;
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new AdminListGroupsForUserCommand({
          UserPoolId: userPoolId,
          Username: username,
          Limit: 60,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      if ((page.Groups ?? []).some((g) => g.GroupName === group)) return true;
      nextToken = page.NextToken;
    } while (nextToken);
    return false;
  } catch (error) {
    const name = (error as { name?: string }).name ?? "";
    if (/TooManyRequests|Throttl|LimitExceeded/.test(name))
      throw new RateLimitedError("the user pool is throttling requests", 1, { cause: error });
    throw new UpstreamUnavailableError("the user pool did not answer", 2, { cause: error });
  }
}
