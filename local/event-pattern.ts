// EventBridge event patterns, as the offline event bus matches them (the subset a rule for AWS service events
// uses). A pattern mirrors the event's structure: every field it names must match (AND); a field's array lists the
// values it may have (OR); an event field that is an array matches when any of its elements does; an array of
// objects in the event is matched element by element. Supported matchers:
//   "exact" | 12 | true | null              exact value (strings case-sensitive, numbers numerically)
//   { "prefix": "st-" }  { "suffix": ".png" } (either may be { "equals-ignore-case": "..." })
//   { "equals-ignore-case": "Participant Published" }
//   { "anything-but": "x" | ["x", 1] | { "prefix" | "suffix" | "equals-ignore-case": ... } }
//   { "numeric": [">", 0, "<=", 5] }
//   { "exists": true | false }
//   { "wildcard": "Participant *" }
//   "$or": [ { ...pattern }, { ...pattern } ]
// A missing field matches only { "exists": false }; anything-but never matches a missing field.

export type EventPattern = { [field: string]: EventPattern | PatternValue[] | EventPattern[] };
export type PatternValue = string | number | boolean | null | Record<string, unknown>;

const NUMERIC_OPERATORS = ["=", "<", "<=", ">", ">="] as const;
type NumericOperator = (typeof NUMERIC_OPERATORS)[number];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isScalar = (value: unknown): value is string | number | boolean | null =>
  value === null ||
  typeof value === "string" ||
  typeof value === "boolean" ||
  (typeof value === "number" && Number.isFinite(value));

// ---------------------------------------------------------------------------------------------------------------
// Validation: the problems EventBridge would refuse the rule for (InvalidEventPatternException).

/** Every problem with a pattern; empty when it is valid. */
export function validatePattern(pattern: unknown): string[] {
  const problems: string[] = [];
  checkObject(pattern, "", problems);
  return problems;
}

function checkObject(pattern: unknown, path: string, problems: string[]): void {
  if (!isPlainObject(pattern)) {
    problems.push(`${path || "the pattern"} must be a JSON object`);
    return;
  }
  if (Object.keys(pattern).length === 0) problems.push(`${path || "the pattern"} must not be empty`);
  for (const [key, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === "$or") {
      if (!Array.isArray(value) || value.length < 2) problems.push(`${at} must be an array of at least two patterns`);
      else value.forEach((alternative, i) => checkObject(alternative, `${at}[${i}]`, problems));
    } else if (Array.isArray(value)) {
      if (value.length === 0) problems.push(`${at} must list at least one value`);
      for (const matcher of value) checkMatcher(matcher, at, problems);
    } else if (isPlainObject(value)) {
      checkObject(value, at, problems);
    } else {
      problems.push(`${at} must be an array of values or a nested pattern, not ${JSON.stringify(value)}`);
    }
  }
}

function checkStringOrIgnoreCase(value: unknown): boolean {
  if (typeof value === "string") return true;
  return isPlainObject(value) && Object.keys(value).length === 1 && typeof value["equals-ignore-case"] === "string";
}

function checkMatcher(matcher: unknown, at: string, problems: string[]): void {
  if (isScalar(matcher)) return;
  if (!isPlainObject(matcher) || Object.keys(matcher).length !== 1) {
    problems.push(`${at}: ${JSON.stringify(matcher)} is not a value or a single-key matcher`);
    return;
  }
  const [kind, arg] = Object.entries(matcher)[0]!;
  const bad = (why: string) => problems.push(`${at}: ${kind} ${why}`);
  switch (kind) {
    case "prefix":
    case "suffix":
      if (!checkStringOrIgnoreCase(arg)) bad('takes a string or {"equals-ignore-case": string}');
      return;
    case "equals-ignore-case":
    case "wildcard":
      if (typeof arg !== "string") bad("takes a string");
      return;
    case "exists":
      if (typeof arg !== "boolean") bad("takes true or false");
      return;
    case "anything-but":
      if (isScalar(arg) && arg !== null) return;
      if (Array.isArray(arg) && arg.length > 0 && arg.every((v) => isScalar(v) && v !== null)) return;
      if (isPlainObject(arg) && Object.keys(arg).length === 1) {
        const [inner, innerArg] = Object.entries(arg)[0]!;
        if ((inner === "prefix" || inner === "suffix") && typeof innerArg === "string") return;
        if (
          inner === "equals-ignore-case" &&
          (typeof innerArg === "string" || (Array.isArray(innerArg) && innerArg.every((v) => typeof v === "string")))
        )
          return;
      }
      bad("takes a value, a list of values, or {prefix|suffix|equals-ignore-case: ...}");
      return;
    case "numeric": {
      const ok =
        Array.isArray(arg) &&
        arg.length > 0 &&
        arg.length <= 4 &&
        arg.length % 2 === 0 &&
        arg.every((v, i) =>
          i % 2 === 0
            ? (NUMERIC_OPERATORS as readonly unknown[]).includes(v)
            : typeof v === "number" && Number.isFinite(v),
        );
      if (!ok) bad('takes one or two [operator, number] pairs, e.g. [">", 0, "<=", 5]');
      return;
    }
    default:
      problems.push(`${at}: unsupported matcher ${kind}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Matching

/** Whether the event matches the (valid) pattern. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, isPlainObject(event) ? event : {});
}

function matchObject(pattern: EventPattern, event: Record<string, unknown>): boolean {
  for (const [key, spec] of Object.entries(pattern)) {
    if (key === "$or") {
      if (!(spec as EventPattern[]).some((alternative) => matchObject(alternative, event))) return false;
      continue;
    }
    const value = Object.hasOwn(event, key) ? event[key] : undefined;
    if (Array.isArray(spec)) {
      if (!matchLeaf(spec as PatternValue[], value)) return false;
    } else if (!matchNested(spec, value)) {
      return false;
    }
  }
  return true;
}

function matchNested(pattern: EventPattern, value: unknown): boolean {
  // An array of objects in the event is matched element by element.
  if (Array.isArray(value)) return value.some((element) => matchNested(pattern, element));
  return matchObject(pattern, isPlainObject(value) ? value : {});
}

function matchLeaf(matchers: PatternValue[], value: unknown): boolean {
  if (value === undefined) return matchers.some((m) => isPlainObject(m) && m.exists === false);
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((matcher) => values.some((v) => matchOne(matcher, v)));
}

function equalsScalar(expected: unknown, actual: unknown): boolean {
  return typeof expected === typeof actual && (expected === actual || (expected === null && actual === null));
}

function stringTest(arg: unknown, actual: string, test: (a: string, b: string) => boolean): boolean {
  if (typeof arg === "string") return test(actual, arg);
  const folded = (arg as Record<string, string>)["equals-ignore-case"]!;
  return test(actual.toLowerCase(), folded.toLowerCase());
}

function wildcardRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "\\" && i + 1 < glob.length) source += glob[++i]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (c === "*") source += ".*";
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

function matchOne(matcher: PatternValue, actual: unknown): boolean {
  if (!isPlainObject(matcher)) return equalsScalar(matcher, actual);
  const [kind, arg] = Object.entries(matcher)[0]!;
  switch (kind) {
    case "exists":
      return arg === true && !isPlainObject(actual);
    case "prefix":
      return typeof actual === "string" && stringTest(arg, actual, (a, b) => a.startsWith(b));
    case "suffix":
      return typeof actual === "string" && stringTest(arg, actual, (a, b) => a.endsWith(b));
    case "equals-ignore-case":
      return typeof actual === "string" && actual.toLowerCase() === String(arg).toLowerCase();
    case "wildcard":
      return typeof actual === "string" && wildcardRegExp(String(arg)).test(actual);
    case "numeric": {
      if (typeof actual !== "number") return false;
      const pairs = arg as Array<NumericOperator | number>;
      for (let i = 0; i < pairs.length; i += 2) {
        const op = pairs[i] as NumericOperator;
        const n = pairs[i + 1] as number;
        const ok =
          op === "="
            ? actual === n
            : op === "<"
              ? actual < n
              : op === "<="
                ? actual <= n
                : op === ">"
                  ? actual > n
                  : actual >= n;
        if (!ok) return false;
      }
      return true;
    }
    case "anything-but": {
      if (isPlainObject(actual)) return false;
      if (isPlainObject(arg)) {
        if (typeof actual !== "string") return true;
        const [inner, innerArg] = Object.entries(arg)[0]!;
        if (inner === "prefix") return !actual.startsWith(innerArg as string);
        if (inner === "suffix") return !actual.endsWith(innerArg as string);
        const list = (Array.isArray(innerArg) ? innerArg : [innerArg]) as string[];
        return !list.some((s) => s.toLowerCase() === actual.toLowerCase());
      }
      const list = Array.isArray(arg) ? arg : [arg];
      return !list.some((v) => equalsScalar(v, actual));
    }
    default:
      return false;
  }
}
