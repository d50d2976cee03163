// A room's policy: who gets which role, and what each role may do. Plain data with defaults and validation.
import { ValidationError, type FieldError } from "../errors.ts";
import { array, boolean, integer, object, oneOf, record, string, type Validator } from "../validation.ts";

export const CAPABILITIES = ["PUBLISH", "SUBSCRIBE"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const ROLE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const MAX_TOKEN_MINUTES = 20160;
/** IVS's quota of publishers on one stage (Service Quotas: "Stage participants (publishers)", not adjustable). */
export const IVS_MAX_PUBLISHERS = 12;
/** The most participants a room's policy may admit. */
export const MAX_PARTICIPANTS_LIMIT = 25_000;

export interface RoleDefinition {
  capabilities: Capability[];
  moderator: boolean;
  maxDurationMinutes: number;
}

export interface Policy {
  access: "open" | "members";
  defaultRole: string;
  groupRoles: Record<string, string>;
  roles: Record<string, RoleDefinition>;
  defaultDurationMinutes: number;
  allowedAttributes: string[];
  /** Publishers on stage at once (1..12, default 12); a PUBLISH token is refused or reduced past it. */
  maxPublishers: number;
  /** Participants connected at once (1..25000); absent: no limit but IVS's own. Moderators are exempt. */
  maxParticipants?: number;
}

export const BUILT_IN_ROLES: Readonly<Record<string, RoleDefinition>> = {
  host: { capabilities: ["PUBLISH", "SUBSCRIBE"], moderator: true, maxDurationMinutes: 720 },
  speaker: { capabilities: ["PUBLISH", "SUBSCRIBE"], moderator: false, maxDurationMinutes: 240 },
  viewer: { capabilities: ["SUBSCRIBE"], moderator: false, maxDurationMinutes: 240 },
};

/** The role's definition, or undefined when the policy defines no such role (a name like `constructor` included). */
export function roleDefinition(policy: Pick<Policy, "roles">, name: string): RoleDefinition | undefined {
  return Object.hasOwn(policy.roles, name) ? policy.roles[name] : undefined;
}

export function defaultPolicy(): Policy {
  return {
    access: "open",
    defaultRole: "viewer",
    groupRoles: {},
    roles: structuredClone(BUILT_IN_ROLES) as Record<string, RoleDefinition>,
    defaultDurationMinutes: 60,
    allowedAttributes: ["displayName", "avatarUrl"],
    maxPublishers: IVS_MAX_PUBLISHERS,
  };
}

const roleInput = object({
  capabilities: array(oneOf(CAPABILITIES), { max: 2, unique: true }),
  moderator: boolean(),
  maxDurationMinutes: integer({ min: 1, max: MAX_TOKEN_MINUTES }),
});

const policyInput = object({
  access: oneOf(["open", "members"] as const),
  defaultRole: string({ pattern: ROLE_NAME }),
  groupRoles: record(string({ min: 1, max: 128 }), string({ pattern: ROLE_NAME }), { max: 100 }),
  roles: record(string({ pattern: ROLE_NAME }), roleInput, { max: 20 }),
  defaultDurationMinutes: integer({ min: 1, max: MAX_TOKEN_MINUTES }),
  allowedAttributes: array(string({ min: 1, max: 64, pattern: /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/ }), {
    max: 20,
    unique: true,
  }),
  maxPublishers: integer({ min: 1, max: IVS_MAX_PUBLISHERS }),
  maxParticipants: integer({ min: 1, max: MAX_PARTICIPANTS_LIMIT }),
});

/** Validates a policy input, applies defaults (roles merge key by key over the built-ins) and checks coherence. */
export const policyValidator: Validator<Policy> = (value, path, errors) => {
  const input = policyInput(value, path, errors);
  if (!input) return undefined;
  const base = defaultPolicy();
  const roles: Record<string, RoleDefinition> = { ...base.roles };
  for (const [name, role] of Object.entries(input.roles ?? {})) {
    const builtIn = BUILT_IN_ROLES[name];
    roles[name] = {
      capabilities: role.capabilities ?? builtIn?.capabilities ?? ["SUBSCRIBE"],
      moderator: role.moderator ?? builtIn?.moderator ?? false,
      maxDurationMinutes: role.maxDurationMinutes ?? builtIn?.maxDurationMinutes ?? 240,
    };
  }
  const policy: Policy = {
    access: input.access ?? base.access,
    defaultRole: input.defaultRole ?? base.defaultRole,
    groupRoles: input.groupRoles ?? base.groupRoles,
    roles,
    defaultDurationMinutes: input.defaultDurationMinutes ?? base.defaultDurationMinutes,
    allowedAttributes: input.allowedAttributes ?? base.allowedAttributes,
    maxPublishers: input.maxPublishers ?? base.maxPublishers,
    ...(input.maxParticipants !== undefined ? { maxParticipants: input.maxParticipants } : {}),
  };
  const before = errors.length;
  checkCoherence(policy, path, errors);
  return errors.length > before ? undefined : policy;
};

function checkCoherence(policy: Policy, path: string, errors: FieldError[]): void {
  const host = policy.roles.host;
  if (!host?.moderator)
    errors.push({ path: `${path}/roles/host/moderator`, message: "the host role must stay a moderator" });
  if (!roleDefinition(policy, policy.defaultRole))
    errors.push({
      path: `${path}/defaultRole`,
      message: `names role ${policy.defaultRole}, which the policy does not define`,
    });
  for (const [group, role] of Object.entries(policy.groupRoles)) {
    if (!roleDefinition(policy, role))
      errors.push({
        path: `${path}/groupRoles/${group}`,
        message: `names role ${role}, which the policy does not define`,
      });
  }
  for (const [name, role] of Object.entries(policy.roles)) {
    if (role.capabilities.length === 0)
      errors.push({ path: `${path}/roles/${name}/capabilities`, message: "must hold at least one capability" });
  }
}

export function parsePolicy(value: unknown, path = "/policy"): Policy {
  const errors: FieldError[] = [];
  const policy = policyValidator(value, path, errors);
  if (!policy || errors.length) throw new ValidationError(errors);
  return policy;
}

/** Ranks roles for group mapping: moderator beats not; then more capabilities; then longer maxDurationMinutes. */
export function compareRoles(a: RoleDefinition, b: RoleDefinition): number {
  return (
    Number(a.moderator) - Number(b.moderator) ||
    a.capabilities.length - b.capabilities.length ||
    a.maxDurationMinutes - b.maxDurationMinutes
  );
}
