import type { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { DepsWithQueue } from "#shared/deps.ts";

/** Moderation also asks the user pool whether a user it is about to ban is an admin. */
export interface ModerationDeps extends DepsWithQueue {
  cognito: CognitoIdentityProviderClient;
}
