/**
 * Checks a request's input against an operation's constraint table (model.ts) and describes every violation in
 * the service's own words ("Value 'x' at 'name' failed to satisfy constraint: Member must ...").
 *
 * JSON `null` counts as absent (restJson1). Members the table does not know are ignored, as the service does.
 */
import type { ListShape, MapShape, Shape, StringShape, StructureShape } from "./model.ts";

const MAX_SHOWN_VALUE = 64;

function show(value: unknown): string {
  if (value === null || value === undefined) return "null";
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  if (text.length > MAX_SHOWN_VALUE) text = `${text.slice(0, MAX_SHOWN_VALUE)}...`;
  return `'${text}'`;
}

function fail(errors: string[], path: string, value: unknown, constraint: string): void {
  errors.push(`Value ${show(value)} at '${path}' failed to satisfy constraint: Member must ${constraint}`);
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkLength(errors: string[], path: string, value: unknown, length: number, min?: number, max?: number) {
  if (min !== undefined && length < min) fail(errors, path, value, `have length greater than or equal to ${min}`);
  if (max !== undefined && length > max) fail(errors, path, value, `have length less than or equal to ${max}`);
}

function validateString(errors: string[], path: string, value: unknown, shape: StringShape): void {
  if (typeof value !== "string") {
    fail(errors, path, value, "be a string");
    return;
  }
  checkLength(errors, path, value, codePoints(value), shape.min, shape.max);
  if (shape.pattern && !shape.pattern.test(value)) {
    fail(errors, path, value, `satisfy regular expression pattern: ${shape.pattern.source}`);
  }
  if (shape.enum && !shape.enum.includes(value)) {
    fail(errors, path, value, `satisfy enum value set: [${shape.enum.join(", ")}]`);
  }
}

function validateList(errors: string[], path: string, value: unknown, shape: ListShape): void {
  if (!Array.isArray(value)) {
    fail(errors, path, value, "be a list");
    return;
  }
  checkLength(errors, path, value, value.length, shape.min, shape.max);
  value.forEach((item, i) => {
    const itemPath = `${path}.${i + 1}.member`;
    if (item === null || item === undefined) fail(errors, itemPath, item, "not be null");
    else validateValue(errors, itemPath, item, shape.member);
  });
  if (shape.uniqueItems) {
    const seen = new Set<string>();
    for (const item of value) {
      const key = JSON.stringify(item) ?? "";
      if (seen.has(key)) {
        fail(errors, path, value, "have unique items");
        break;
      }
      seen.add(key);
    }
  }
}

function validateMap(errors: string[], path: string, value: unknown, shape: MapShape): void {
  if (!isPlainObject(value)) {
    fail(errors, path, value, "be a map");
    return;
  }
  const entries = Object.entries(value);
  checkLength(errors, path, value, entries.length, shape.min, shape.max);
  for (const [key, item] of entries) {
    validateString(errors, `${path}.key`, key, shape.key);
    const itemPath = `${path}.${key}`;
    if (item === null || item === undefined) fail(errors, itemPath, item, "not be null");
    else validateValue(errors, itemPath, item, shape.value);
  }
}

export function validateStructure(errors: string[], path: string, value: unknown, shape: StructureShape): void {
  if (!isPlainObject(value)) {
    fail(errors, path || "body", value, "be a structure");
    return;
  }
  for (const [name, member] of Object.entries(shape.members)) {
    const memberPath = path ? `${path}.${name}` : name;
    const memberValue = Object.hasOwn(value, name) ? value[name] : undefined;
    if (memberValue === null || memberValue === undefined) {
      if (member.required) fail(errors, memberPath, null, "not be null");
      continue;
    }
    validateValue(errors, memberPath, memberValue, member.shape);
  }
}

function validateValue(errors: string[], path: string, value: unknown, shape: Shape): void {
  switch (shape.kind) {
    case "string":
      validateString(errors, path, value, shape);
      return;
    case "integer":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) {
        fail(errors, path, value, "be an integer");
        return;
      }
      if (shape.min !== undefined && value < shape.min) {
        fail(errors, path, value, `have value greater than or equal to ${shape.min}`);
      }
      if (shape.max !== undefined && value > shape.max) {
        fail(errors, path, value, `have value less than or equal to ${shape.max}`);
      }
      return;
    case "boolean":
      if (typeof value !== "boolean") fail(errors, path, value, "be a boolean");
      return;
    case "list":
      validateList(errors, path, value, shape);
      return;
    case "map":
      validateMap(errors, path, value, shape);
      return;
    case "structure":
      validateStructure(errors, path, value, shape);
      return;
  }
}

/** All violations of `input` against `shape`; an empty list when the input is valid. */
export function validateInput(input: unknown, shape: StructureShape): string[] {
  const errors: string[] = [];
  validateStructure(errors, "", input, shape);
  return errors;
}

export function describeValidationErrors(errors: readonly string[]): string {
  const n = errors.length;
  return `${n} validation error${n === 1 ? "" : "s"} detected: ${errors.join("; ")}`;
}
