// Who is calling: what stagepass takes from a verified Cognito JWT, and nothing more.

export interface Caller {
  /** The `sub` claim: the user id everywhere, and the IVS userId. */
  userId: string;
  /** preferred_username, else cognito:username / username. Never name or email: every participant sees it. */
  displayName: string;
  groups: string[];
  isAdmin: boolean;
}

export function callerFromClaims(claims: Record<string, unknown>, adminGroup: string): Caller {
  const text = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
  const groupsClaim = claims["cognito:groups"];
  const groups = Array.isArray(groupsClaim) ? groupsClaim.filter((g): g is string => typeof g === "string") : [];
  const userId = String(claims.sub);
  return {
    userId,
    displayName: text(claims.preferred_username) ?? text(claims["cognito:username"]) ?? text(claims.username) ?? userId,
    groups,
    isAdmin: groups.includes(adminGroup),
  };
}
