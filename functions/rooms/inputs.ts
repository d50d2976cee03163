// Request bodies of the rooms routes.
import { ValidationError, type FieldError } from "#shared/errors.ts";
import { policyValidator } from "#shared/rooms/policy.ts";
import { object, record, string, type Validator } from "#shared/validation.ts";

export const STAGE_NAME = /^[a-zA-Z0-9-_]{0,128}$/;
/** Tag keys under this prefix belong to the service. */
export const RESERVED_TAG_PREFIX = "stagepass:";
export const MAX_TAGS = 50;

const tagKey: Validator<string> = (value, path, errors) => {
  const key = string({ min: 1, max: 128 })(value, path, errors);
  if (key === undefined) return undefined;
  if (key.startsWith("aws:"))
    return void errors.push({ path, message: "tag keys starting with aws: are reserved by AWS" });
  if (key.startsWith(RESERVED_TAG_PREFIX))
    return void errors.push({ path, message: `tag keys under ${RESERVED_TAG_PREFIX} belong to stagepass` });
  if (key.includes(",")) return void errors.push({ path, message: "tag keys cannot contain a comma" });
  return key;
};
export const tagsValidator = record(tagKey, string({ min: 0, max: 256 }), { max: MAX_TAGS });

export const createRoomInput = object({
  name: string({ pattern: STAGE_NAME, patternHint: "^[a-zA-Z0-9-_]{0,128}$" }),
  title: string({ min: 1, max: 200 }),
  tags: tagsValidator,
  policy: policyValidator,
});

export const updateRoomInput = object({
  name: string({ pattern: STAGE_NAME, patternHint: "^[a-zA-Z0-9-_]{0,128}$" }),
  title: string({ min: 1, max: 200 }),
  policy: policyValidator,
});

export const putTagsInput = object({ tags: tagsValidator });

export function requireBody(body: unknown): unknown {
  if (body === undefined) throw new ValidationError([{ path: "/", message: "a JSON body is required" }]);
  return body;
}

export function tagKeysFromQuery(raw: string | undefined): string[] {
  const errors: FieldError[] = [];
  if (raw === undefined || raw === "")
    throw new ValidationError([{ path: "/query/keys", message: "name at least one tag key" }]);
  const keys = raw.split(",");
  keys.forEach((k, i) => tagKey(k, `/query/keys/${i}`, errors));
  if (keys.length > MAX_TAGS) errors.push({ path: "/query/keys", message: `at most ${MAX_TAGS} keys` });
  if (errors.length) throw new ValidationError(errors);
  return [...new Set(keys)];
}
