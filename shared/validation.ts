// Small typed validators for request input: each returns the value typed or records FieldErrors with JSON
// pointers. Unknown object keys are rejected so typos surface. Objects are rebuilt with Object.fromEntries, so a
// `__proto__` key never touches a prototype.
import { ValidationError, type FieldError } from "./errors.ts";

export type Validator<T> = (value: unknown, path: string, errors: FieldError[]) => T | undefined;

const describe = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function string(
  opts: { min?: number; max?: number; pattern?: RegExp; patternHint?: string } = {},
): Validator<string> {
  return (value, path, errors) => {
    if (typeof value !== "string")
      return void errors.push({ path, message: `must be a string, not ${describe(value)}` });
    const length = [...value].length;
    if (opts.min !== undefined && length < opts.min)
      return void errors.push({ path, message: `must be at least ${opts.min} characters` });
    if (opts.max !== undefined && length > opts.max)
      return void errors.push({ path, message: `must be at most ${opts.max} characters` });
    if (opts.pattern && !opts.pattern.test(value)) {
      return void errors.push({ path, message: `must match ${opts.patternHint ?? opts.pattern.source}` });
    }
    return value;
  };
}

export function integer(opts: { min: number; max: number }): Validator<number> {
  return (value, path, errors) => {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      return void errors.push({ path, message: `must be an integer, not ${describe(value)}` });
    }
    if (value < opts.min || value > opts.max) {
      return void errors.push({ path, message: `must be between ${opts.min} and ${opts.max}` });
    }
    return value;
  };
}

export function boolean(): Validator<boolean> {
  return (value, path, errors) =>
    typeof value === "boolean"
      ? value
      : void errors.push({ path, message: `must be a boolean, not ${describe(value)}` });
}

export function oneOf<const T extends string>(values: readonly T[]): Validator<T> {
  return (value, path, errors) =>
    typeof value === "string" && (values as readonly string[]).includes(value)
      ? (value as T)
      : void errors.push({ path, message: `must be one of ${values.join(", ")}` });
}

export function array<T>(
  item: Validator<T>,
  opts: { min?: number; max?: number; unique?: boolean } = {},
): Validator<T[]> {
  return (value, path, errors) => {
    if (!Array.isArray(value)) return void errors.push({ path, message: `must be an array, not ${describe(value)}` });
    if (opts.min !== undefined && value.length < opts.min)
      return void errors.push({ path, message: `must hold at least ${opts.min} items` });
    if (opts.max !== undefined && value.length > opts.max)
      return void errors.push({ path, message: `must hold at most ${opts.max} items` });
    const before = errors.length;
    const out = value.map((v, i) => item(v, `${path}/${i}`, errors));
    if (errors.length > before) return undefined;
    if (opts.unique && new Set(out).size !== out.length)
      return void errors.push({ path, message: "must not repeat items" });
    return out as T[];
  };
}

/** A JSON object used as a map (string keys → values). */
export function record<T>(
  key: Validator<string>,
  valueValidator: Validator<T>,
  opts: { max?: number } = {},
): Validator<Record<string, T>> {
  return (value, path, errors) => {
    if (!isPlainObject(value)) return void errors.push({ path, message: `must be an object, not ${describe(value)}` });
    const entries = Object.entries(value);
    if (opts.max !== undefined && entries.length > opts.max)
      return void errors.push({ path, message: `must hold at most ${opts.max} entries` });
    const before = errors.length;
    const out = entries.map(([k, v]) => {
      const p = `${path}/${escapePointer(k)}`;
      return [key(k, p, errors), valueValidator(v, p, errors)] as const;
    });
    if (errors.length > before) return undefined;
    return Object.fromEntries(out) as Record<string, T>;
  };
}

type Shape = Record<string, Validator<unknown>>;
type Out<S extends Shape> = { [K in keyof S]?: S[K] extends Validator<infer T> ? T : never };

/** An object with known, all optional, keys; unknown keys are errors. Required keys are checked by the caller. */
export function object<S extends Shape>(shape: S): Validator<Out<S>> {
  return (value, path, errors) => {
    if (!isPlainObject(value))
      return void errors.push({ path: path || "/", message: `must be a JSON object, not ${describe(value)}` });
    const before = errors.length;
    const out: [string, unknown][] = [];
    for (const [k, v] of Object.entries(value)) {
      const validator = Object.hasOwn(shape, k) ? shape[k] : undefined;
      if (!validator) {
        errors.push({ path: `${path}/${escapePointer(k)}`, message: "is not a known field" });
        continue;
      }
      out.push([k, validator(v, `${path}/${escapePointer(k)}`, errors)]);
    }
    if (errors.length > before) return undefined;
    return Object.fromEntries(out) as Out<S>;
  };
}

export const escapePointer = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");

/** Runs a validator and throws one ValidationError listing every problem. */
export function validate<T>(validator: Validator<T>, value: unknown, path = ""): T {
  const errors: FieldError[] = [];
  const out = validator(value, path, errors);
  if (errors.length > 0 || out === undefined) {
    throw new ValidationError(errors.length > 0 ? errors : [{ path: path || "/", message: "is invalid" }]);
  }
  return out;
}

export const ID_PATTERN = /^[a-zA-Z0-9-]{1,64}$/;

/** Path parameters (room ids, user ids) must match ^[a-zA-Z0-9-]{1,64}$. */
export function pathParameter(request: { pathParameters: Record<string, string> }, name: string): string {
  const value = request.pathParameters[name];
  if (value === undefined || !ID_PATTERN.test(value)) {
    throw new ValidationError([{ path: `/path/${name}`, message: "must match ^[a-zA-Z0-9-]{1,64}$" }]);
  }
  return value;
}
