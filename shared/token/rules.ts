// The token request's rules as plain functions: which capabilities, how long, which attributes.
import type { Caller } from "../auth/caller.ts";
import { ForbiddenError, ValidationError } from "../errors.ts";
import { CAPABILITIES, MAX_TOKEN_MINUTES, type Capability, type Policy, type RoleDefinition } from "../rooms/policy.ts";
import { array, escapePointer, integer, object, oneOf, record, string } from "../validation.ts";

/** IVS documents 1 KB for a token's attributes, measured here as the UTF-8 JSON of the final map. */
export const MAX_ATTRIBUTES_BYTES = 1024;

export const tokenInput = object({
  capabilities: array(oneOf(CAPABILITIES), { min: 1, max: 2, unique: true }),
  durationMinutes: integer({ min: 1, max: MAX_TOKEN_MINUTES }),
  attributes: record(string({ min: 1, max: 128 }), string({ max: 1024 }), { max: 50 }),
});

export interface TokenPlan {
  capabilities: Capability[];
  durationMinutes: number;
  attributes: Record<string, string>;
}

export function planToken(
  input: {
    capabilities?: Capability[] | undefined;
    durationMinutes?: number | undefined;
    attributes?: Record<string, string> | undefined;
  },
  role: { name: string; definition: RoleDefinition },
  policy: Policy,
  caller: Caller,
): TokenPlan {
  const allowed = role.definition.capabilities;
  const capabilities = input.capabilities ?? [...allowed];
  // IVS reads an empty or missing list as PUBLISH and SUBSCRIBE: a role that grants nothing gets no token.
  if (capabilities.length === 0) throw new ForbiddenError(`role ${role.name} has no capabilities in this room`);
  const missing = capabilities.filter((c) => !allowed.includes(c));
  if (missing.length > 0)
    throw new ForbiddenError(`role ${role.name} does not have the capability ${missing.join(", ")}`);

  const max = Math.min(role.definition.maxDurationMinutes, MAX_TOKEN_MINUTES);
  const durationMinutes = input.durationMinutes ?? Math.min(policy.defaultDurationMinutes, max);
  if (durationMinutes > max) {
    throw new ValidationError([
      { path: "/durationMinutes", message: `must be between 1 and ${max} for role ${role.name}` },
    ]);
  }

  const given = input.attributes ?? {};
  const errors = Object.keys(given).flatMap((key) => {
    const path = `/attributes/${escapePointer(key)}`;
    if (key === "role") return [{ path, message: "is set by the service and cannot be given" }];
    if (!policy.allowedAttributes.includes(key)) return [{ path, message: "is not an attribute this room allows" }];
    return [];
  });
  if (errors.length) throw new ValidationError(errors);
  const attributes: Record<string, string> = Object.fromEntries(Object.entries(given));
  attributes.role = role.name;
  attributes.displayName = given.displayName ?? caller.displayName;
  const bytes = Buffer.byteLength(JSON.stringify(attributes), "utf8");
  if (bytes > MAX_ATTRIBUTES_BYTES) {
    throw new ValidationError([
      {
        path: "/attributes",
        message: `take ${bytes} bytes as UTF-8 JSON with role and displayName; at most ${MAX_ATTRIBUTES_BYTES} are allowed`,
      },
    ]);
  }
  return { capabilities: sortCapabilities(capabilities), durationMinutes, attributes };
}

const sortCapabilities = (c: Capability[]) => CAPABILITIES.filter((x) => c.includes(x));
