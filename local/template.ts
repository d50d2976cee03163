// Reads template.yaml the way SAM does: CloudFormation's short-form intrinsic tags, Globals merged into each
// function, HttpApi routes, esbuild metadata. The offline stack, the build and the tests all read the route
// table from here, so it lives once, in the template.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, type Tags, type ScalarTag, type CollectionTag } from "yaml";

export const projectRoot = fileURLToPath(new URL("..", import.meta.url));
export const templatePath = `${projectRoot}template.yaml`;

type Json = unknown;

const intrinsic = (tag: string, fn: string, kind: "scalar" | "seq" | "map"): ScalarTag | CollectionTag => {
  const toFn = (value: Json): Json => {
    if (fn === "Ref") return { Ref: value };
    if (fn === "Fn::GetAtt" && typeof value === "string") {
      const dot = value.indexOf(".");
      return { "Fn::GetAtt": [value.slice(0, dot), value.slice(dot + 1)] };
    }
    if (fn === "Condition") return { Condition: value };
    return { [fn]: value };
  };
  if (kind === "scalar") {
    return { tag, resolve: (value: string) => toFn(value) } as ScalarTag;
  }
  return {
    tag,
    collection: kind,
    resolve: (node: { toJSON(): Json }) => toFn(node.toJSON()),
  } as unknown as CollectionTag;
};

const FUNCTIONS: Array<[string, string]> = [
  ["Ref", "Ref"],
  ["Sub", "Fn::Sub"],
  ["GetAtt", "Fn::GetAtt"],
  ["If", "Fn::If"],
  ["Equals", "Fn::Equals"],
  ["Join", "Fn::Join"],
  ["Select", "Fn::Select"],
  ["Split", "Fn::Split"],
  ["Not", "Fn::Not"],
  ["And", "Fn::And"],
  ["Or", "Fn::Or"],
  ["FindInMap", "Fn::FindInMap"],
  ["Base64", "Fn::Base64"],
  ["Condition", "Condition"],
  ["ImportValue", "Fn::ImportValue"],
  ["GetAZs", "Fn::GetAZs"],
  ["Cidr", "Fn::Cidr"],
];

/** CloudFormation's short-form tags, each in scalar, sequence and mapping form. */
export const cloudFormationTags: Tags = FUNCTIONS.flatMap(([short, fn]) =>
  (["scalar", "seq", "map"] as const).map((kind) => intrinsic(`!${short}`, fn, kind)),
);

export interface Template {
  AWSTemplateFormatVersion?: string;
  Transform?: string | string[];
  Parameters?: Record<string, { Type: string; Default?: unknown; AllowedValues?: unknown[] }>;
  Conditions?: Record<string, Json>;
  Globals?: { Function?: Record<string, Json> };
  Resources: Record<
    string,
    { Type: string; Condition?: string; Properties?: Record<string, Json>; Metadata?: Record<string, Json> }
  >;
  Outputs?: Record<string, Json>;
}

export function parseTemplate(text: string): Template {
  return parse(text, { customTags: cloudFormationTags }) as Template;
}

export function loadTemplate(path = templatePath): Template {
  return parseTemplate(readFileSync(path, "utf8"));
}

// ---------------------------------------------------------------------------------------------------------------
// Intrinsic functions, resolved against the offline stack's values.

export interface ResolveContext {
  parameters: Record<string, unknown>;
  /** Physical ids (what Ref returns) of resources, by logical id. */
  resources: Record<string, string>;
  /** GetAtt values: `${logicalId}.${attribute}` → value. */
  attributes?: Record<string, string>;
  pseudo?: Record<string, string>;
  conditions?: Record<string, Json>;
}

/** What `Ref AWS::NoValue` resolves to: the property (or list item) that holds it is removed, as CloudFormation does. */
export const NO_VALUE: unique symbol = Symbol("AWS::NoValue");

export function resolveIntrinsics(value: Json, ctx: ResolveContext): Json {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, ctx)).filter((v) => v !== NO_VALUE);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, Json>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = obj[key];
    switch (key) {
      case "Ref":
        return ref(String(arg), ctx);
      case "Fn::GetAtt": {
        const [logical, attribute] = arg as [string, string];
        const found = ctx.attributes?.[`${logical}.${attribute}`];
        if (found === undefined) throw new Error(`Fn::GetAtt ${logical}.${attribute} has no local value`);
        return found;
      }
      case "Fn::If": {
        const [condition, whenTrue, whenFalse] = arg as [string, Json, Json];
        return resolveIntrinsics(evaluateCondition(condition, ctx) ? whenTrue : whenFalse, ctx);
      }
      case "Fn::Equals": {
        const [a, b] = (arg as Json[]).map((v) => resolveIntrinsics(v, ctx));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case "Fn::Not":
        return !resolveIntrinsics((arg as Json[])[0], ctx);
      case "Fn::And":
        return (arg as Json[]).every((v) => resolveIntrinsics(v, ctx));
      case "Fn::Or":
        return (arg as Json[]).some((v) => resolveIntrinsics(v, ctx));
      case "Condition":
        return evaluateCondition(String(arg), ctx);
      case "Fn::Join": {
        const [sep, parts] = arg as [string, Json[]];
        return (resolveIntrinsics(parts, ctx) as Json[]).join(sep);
      }
      case "Fn::Split": {
        const [sep, text] = arg as [string, Json];
        return String(resolveIntrinsics(text, ctx)).split(sep);
      }
      case "Fn::Select": {
        const [index, list] = arg as [Json, Json];
        return (resolveIntrinsics(list, ctx) as Json[])[Number(resolveIntrinsics(index, ctx))];
      }
      case "Fn::Sub": {
        const [text, vars] = typeof arg === "string" ? [arg, {}] : (arg as [string, Record<string, Json>]);
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
          if (name.startsWith("!")) return `\${${name.slice(1)}}`;
          if (name in vars) return String(resolveIntrinsics(vars[name], ctx));
          if (name.includes(".")) {
            const [logical, attribute] = name.split(".", 2) as [string, string];
            return String(resolveIntrinsics({ "Fn::GetAtt": [logical, attribute] }, ctx));
          }
          return String(ref(name, ctx));
        });
      }
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(obj[k], ctx)]).filter(([, v]) => v !== NO_VALUE));
}

function ref(name: string, ctx: ResolveContext): Json {
  if (name === "AWS::NoValue") return NO_VALUE;
  if (name in ctx.parameters) return ctx.parameters[name];
  if (name in ctx.resources) return ctx.resources[name];
  if (ctx.pseudo && name in ctx.pseudo) return ctx.pseudo[name];
  throw new Error(`Ref ${name} has no local value`);
}

function evaluateCondition(name: string, ctx: ResolveContext): boolean {
  const definition = ctx.conditions?.[name];
  if (definition === undefined) throw new Error(`unknown condition ${name}`);
  return Boolean(resolveIntrinsics(definition, ctx));
}

// ---------------------------------------------------------------------------------------------------------------
// What the offline stack and the build need to know about each function.

export interface RouteDefinition {
  method: string;
  path: string;
  /** API Gateway's routeKey, e.g. `GET /rooms/{roomId}`. */
  routeKey: string;
  eventName: string;
}

export interface FunctionDefinition {
  logicalId: string;
  handler: string;
  entryPoint: string;
  buildProperties: Record<string, Json>;
  timeoutSeconds: number;
  memorySize: number;
  /** ReservedConcurrentExecutions, intrinsics unresolved; absent when the function reserves none. */
  reservedConcurrency?: Json;
  /** Environment after Globals merge, intrinsics unresolved. */
  environment: Record<string, Json>;
  routes: RouteDefinition[];
  /** SQS event sources: queue logical ids. */
  queues: Array<{ queueLogicalId: string; batchSize: number }>;
  /** EventBridgeRule event sources (Pattern and EventBusName unresolved); none when absent. */
  eventRules?: EventRuleSource[];
  /** Schedule event sources (Schedule and State unresolved); none when absent. */
  schedules?: ScheduleSource[];
  /** EventInvokeConfig.MaximumRetryAttempts: Lambda's retries of a failed asynchronous invocation (absent: 2). */
  maximumRetryAttempts?: number;
}

export interface EventRuleSource {
  eventName: string;
  pattern: Json;
  eventBusName: Json;
  enabled: boolean;
  input?: string;
  inputPath?: string;
}

/** A SAM Schedule event source: EventBridge invokes the function on a `rate(...)` or `cron(...)` expression. */
export interface ScheduleSource {
  eventName: string;
  schedule: Json;
  /** ENABLED or DISABLED (State, else Enabled), unresolved: it may be an Fn::If. */
  state: Json;
  input?: string;
}

/** Schedule properties the offline stack honours or may ignore (they only matter in AWS). */
const SCHEDULE_PROPERTIES = [
  "Schedule",
  "State",
  "Enabled",
  "Input",
  "Name",
  "Description",
  "RetryPolicy",
  "DeadLetterConfig",
];

/** EventBridgeRule properties the offline event bus honours or may ignore (they only matter in AWS). */
const EVENT_RULE_PROPERTIES = [
  "Pattern",
  "EventBusName",
  "Input",
  "InputPath",
  "State",
  "Enabled",
  "RuleName",
  "Target",
  "RetryPolicy",
  "DeadLetterConfig",
];

export function functionsOf(template: Template): FunctionDefinition[] {
  const globals = template.Globals?.Function ?? {};
  const globalEnv = (globals.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {};
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === "AWS::Serverless::Function")
    .map(([logicalId, resource]) => {
      const props = resource.Properties ?? {};
      const metadata = resource.Metadata ?? {};
      const buildProperties = (metadata.BuildProperties as Record<string, Json> | undefined) ?? {};
      const entryPoints = (buildProperties.EntryPoints as string[] | undefined) ?? [];
      const env = (props.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {};
      const events =
        (props.Events as Record<string, { Type: string; Properties: Record<string, Json> }> | undefined) ?? {};
      const routes: RouteDefinition[] = [];
      const queues: FunctionDefinition["queues"] = [];
      const eventRules: EventRuleSource[] = [];
      const schedules: ScheduleSource[] = [];
      for (const [eventName, event] of Object.entries(events)) {
        if (event.Type === "HttpApi") {
          const method = String(event.Properties.Method).toUpperCase();
          const path = String(event.Properties.Path);
          routes.push({ method, path, routeKey: `${method} ${path}`, eventName });
        } else if (event.Type === "SQS") {
          const queue = event.Properties.Queue as { "Fn::GetAtt"?: [string, string] };
          const queueLogicalId = queue["Fn::GetAtt"]?.[0];
          if (!queueLogicalId) throw new Error(`${logicalId}.${eventName}: SQS Queue must be !GetAtt <Queue>.Arn`);
          queues.push({ queueLogicalId, batchSize: Number(event.Properties.BatchSize ?? 10) });
        } else if (event.Type === "EventBridgeRule") {
          eventRules.push(eventRuleOf(`${logicalId}.${eventName}`, eventName, event.Properties ?? {}));
        } else if (event.Type === "Schedule") {
          schedules.push(scheduleOf(`${logicalId}.${eventName}`, eventName, event.Properties ?? {}));
        }
      }
      const invokeConfig = (props.EventInvokeConfig ?? globals.EventInvokeConfig) as
        { MaximumRetryAttempts?: Json } | undefined;
      const reserved = props.ReservedConcurrentExecutions ?? globals.ReservedConcurrentExecutions;
      const entryPoint = entryPoints[0];
      if (!entryPoint) throw new Error(`${logicalId}: Metadata.BuildProperties.EntryPoints is missing`);
      return {
        logicalId,
        handler: String(props.Handler ?? globals.Handler),
        entryPoint,
        buildProperties,
        timeoutSeconds: Number(props.Timeout ?? globals.Timeout ?? 3),
        memorySize: Number(props.MemorySize ?? globals.MemorySize ?? 128),
        ...(reserved !== undefined ? { reservedConcurrency: reserved } : {}),
        environment: { ...globalEnv, ...env },
        routes,
        queues,
        eventRules,
        schedules,
        maximumRetryAttempts: Number(invokeConfig?.MaximumRetryAttempts ?? 2),
      };
    });
}

function eventRuleOf(where: string, eventName: string, props: Record<string, Json>): EventRuleSource {
  const unsupported = Object.keys(props).filter((k) => !EVENT_RULE_PROPERTIES.includes(k));
  if (unsupported.length > 0)
    throw new Error(`${where}: EventBridgeRule ${unsupported.join(", ")} is not supported by the offline stack`);
  if (props.Pattern === undefined) throw new Error(`${where}: EventBridgeRule needs a Pattern`);
  if (props.Input !== undefined && typeof props.Input !== "string")
    throw new Error(`${where}: Input must be a JSON string`);
  if (props.InputPath !== undefined && typeof props.InputPath !== "string")
    throw new Error(`${where}: InputPath must be a string`);
  const rule: EventRuleSource = {
    eventName,
    pattern: props.Pattern,
    eventBusName: props.EventBusName ?? "default",
    enabled: props.State !== undefined ? props.State === "ENABLED" : props.Enabled !== false,
  };
  if (props.Input !== undefined) rule.input = props.Input;
  if (props.InputPath !== undefined) rule.inputPath = props.InputPath;
  return rule;
}

function scheduleOf(where: string, eventName: string, props: Record<string, Json>): ScheduleSource {
  const unsupported = Object.keys(props).filter((k) => !SCHEDULE_PROPERTIES.includes(k));
  if (unsupported.length > 0)
    throw new Error(`${where}: Schedule ${unsupported.join(", ")} is not supported by the offline stack`);
  if (props.Schedule === undefined) throw new Error(`${where}: a Schedule event needs a Schedule expression`);
  if (props.Input !== undefined && typeof props.Input !== "string")
    throw new Error(`${where}: Input must be a JSON string`);
  const state = props.State ?? (props.Enabled === false ? "DISABLED" : "ENABLED");
  return { eventName, schedule: props.Schedule, state, ...(props.Input !== undefined ? { input: props.Input } : {}) };
}

/** Milliseconds between runs of a `rate(N minute[s]|hour[s]|day[s])` expression; undefined for anything else (cron). */
export function rateMs(expression: string): number | undefined {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m || Number(m[1]) < 1) return undefined;
  const unit = m[2]!.replace(/s$/, "");
  return Number(m[1]) * (unit === "minute" ? 60_000 : unit === "hour" ? 3_600_000 : 86_400_000);
}

export function routesOf(template: Template): Array<RouteDefinition & { functionLogicalId: string }> {
  return functionsOf(template).flatMap((fn) => fn.routes.map((r) => ({ ...r, functionLogicalId: fn.logicalId })));
}

export interface CorsConfiguration {
  allowOrigins: unknown;
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAge?: number;
}

export function httpApiCorsOf(template: Template): CorsConfiguration | undefined {
  const api = Object.values(template.Resources).find((r) => r.Type === "AWS::Serverless::HttpApi");
  const cors = api?.Properties?.CorsConfiguration as Record<string, Json> | undefined;
  if (!cors) return undefined;
  return {
    allowOrigins: cors.AllowOrigins,
    allowMethods: ((cors.AllowMethods as string[] | undefined) ?? []).map((m) => m.toUpperCase()),
    allowHeaders: ((cors.AllowHeaders as string[] | undefined) ?? []).map((h) => h.toLowerCase()),
    exposeHeaders: ((cors.ExposeHeaders as string[] | undefined) ?? []).map((h) => h.toLowerCase()),
    ...(cors.MaxAge !== undefined ? { maxAge: Number(cors.MaxAge) } : {}),
  };
}

export function tableOf(template: Template): { logicalId: string; properties: Record<string, Json> } {
  const found = Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::DynamoDB::Table");
  if (found.length !== 1) throw new Error(`expected exactly one DynamoDB table, found ${found.length}`);
  const [logicalId, resource] = found[0]!;
  return { logicalId, properties: resource.Properties ?? {} };
}

export function parameterDefaults(template: Template): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(template.Parameters ?? {}).map(([name, p]) => {
      const value = p.Default ?? "";
      // CloudFormation trims each member of a CommaDelimitedList.
      return [
        name,
        p.Type === "CommaDelimitedList"
          ? String(value)
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean)
          : value,
      ];
    }),
  );
}
