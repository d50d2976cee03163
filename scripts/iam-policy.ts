// Each function's IAM permissions, twice: what its code needs (its bundle's SDK commands through scripts/iam-map.ts,
// plus what Lambda does with the role: its event sources and its log group), and what template.yaml grants (the
// statements of the role the function runs as). tests/integration/iam.test.ts asserts the two are equal.
//
//   npx tsx scripts/iam-policy.ts        prints the statements each function needs, as template.yaml spells them
import { fileURLToPath } from "node:url";
import { functionsOf, loadTemplate, type FunctionDefinition, type Template } from "../local/template.ts";
import {
  COMMAND_IAM,
  INTERNAL_PACKAGES,
  LOG_ACTIONS,
  SQS_DEAD_LETTER_ACTIONS,
  SQS_EVENT_SOURCE_ACTIONS,
  TRANSACT_ITEM_ACTIONS,
  type ResourceKind,
} from "./iam-map.ts";
import { analyseFunction, type SdkCalls } from "./sdk-calls.ts";

type Json = unknown;

/** One action on one resource; `resource` is the template expression (long form, as local/template.ts parses it). */
export interface Grant {
  action: string;
  resource: Json;
  /** Why it is needed (the command, event source or log group). */
  because: string;
}

export const grantKey = (g: { action: string; resource: Json }) => `${g.action} on ${JSON.stringify(g.resource)}`;

const IVS_STAGES = { "Fn::Sub": "arn:${AWS::Partition}:ivs:${AWS::Region}:${AWS::AccountId}:stage/*" };
const IVS_PUBLIC_KEYS = { "Fn::Sub": "arn:${AWS::Partition}:ivs:${AWS::Region}:${AWS::AccountId}:public-key/*" };
/** The pool USER_POOL_ID names: the stack's own, or the one given as a parameter. */
const USER_POOL = {
  "Fn::If": [
    "CreateUserPool",
    { "Fn::GetAtt": ["UserPool", "Arn"] },
    { "Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${UserPoolId}" },
  ],
};

function refTarget(value: Json, what: string, logicalId: string, template: Template, type: string): string {
  const target = (value as { Ref?: string } | undefined)?.Ref;
  if (!target || template.Resources[target]?.Type !== type) {
    throw new Error(`${logicalId}: ${what} must be a Ref to a ${type}, not ${JSON.stringify(value)}`);
  }
  return target;
}

function resourcesFor(kind: ResourceKind, fn: FunctionDefinition, template: Template, calls: SdkCalls): Json[] {
  switch (kind) {
    case "table":
      return [
        {
          "Fn::GetAtt": [
            refTarget(fn.environment.TABLE_NAME, "TABLE_NAME", fn.logicalId, template, "AWS::DynamoDB::Table"),
            "Arn",
          ],
        },
      ];
    case "table-indexes": {
      const table = refTarget(fn.environment.TABLE_NAME, "TABLE_NAME", fn.logicalId, template, "AWS::DynamoDB::Table");
      const props = template.Resources[table]!.Properties ?? {};
      const declared = [
        ...((props.GlobalSecondaryIndexes as Array<{ IndexName: string }> | undefined) ?? []),
        ...((props.LocalSecondaryIndexes as Array<{ IndexName: string }> | undefined) ?? []),
      ].map((i) => i.IndexName);
      for (const name of calls.indexNames) {
        if (!declared.includes(name))
          throw new Error(`${fn.logicalId}: the code queries index ${name}, which table ${table} does not have`);
      }
      return calls.indexNames.map((name) => ({ "Fn::Sub": `\${${table}.Arn}/index/${name}` }));
    }
    case "ivs-stages":
      return [IVS_STAGES];
    case "*":
      return ["*"];
    case "queues":
      return namedBy(fn, /_QUEUE_URL$/, template, "AWS::SQS::Queue").map((queue) => ({ "Fn::GetAtt": [queue, "Arn"] }));
    case "event-source-queues":
      if (fn.queues.length === 0)
        throw new Error(`${fn.logicalId}: its code changes message visibility, but it has no SQS event source`);
      return fn.queues.map((q) => ({ "Fn::GetAtt": [q.queueLogicalId, "Arn"] }));
    case "secrets":
      // Ref of a secret is its ARN.
      return namedBy(fn, /_SECRET_ID$/, template, "AWS::SecretsManager::Secret").map((secret) => ({ Ref: secret }));
    case "ivs-public-keys":
      return [IVS_PUBLIC_KEYS];
    case "user-pool":
      return [USER_POOL];
  }
}

/**
 * The resources of `type` that the function's variables matching `name` refer to: `!Ref <resource>`, or an Fn::If
 * with such a Ref in a branch (the other branch "" or AWS::NoValue); "" names none. Anything else is refused.
 */
function namedBy(fn: FunctionDefinition, name: RegExp, template: Template, type: string): string[] {
  const found = new Set<string>();
  for (const [variable, value] of Object.entries(fn.environment)) {
    if (!name.test(variable) || value === "") continue;
    const branches = (value as { "Fn::If"?: [string, Json, Json] })["Fn::If"]?.slice(1) ?? [value];
    for (const branch of branches) {
      if (branch === "" || JSON.stringify(branch) === JSON.stringify({ Ref: "AWS::NoValue" })) continue;
      found.add(refTarget(branch, variable, fn.logicalId, template, type));
    }
  }
  if (found.size === 0)
    throw new Error(
      `${fn.logicalId}: its code needs a ${type}, but no ${name.source.replace("$", "")} variable names one`,
    );
  return [...found].sort();
}

/** What the function needs: from its code's SDK commands, its event sources and its log group. */
export function neededGrants(fn: FunctionDefinition, template: Template, calls: SdkCalls): Grant[] {
  const grants: Grant[] = [];
  for (const command of calls.commands) {
    const key = `${command.pkg}:${command.operation}`;
    const rule = COMMAND_IAM[key];
    if (!rule)
      throw new Error(
        `${fn.logicalId}: its bundle can send ${key}, which scripts/iam-map.ts does not map to IAM actions`,
      );
    if ("never" in rule) continue;
    let actions: string[];
    if ("transactItems" in rule) {
      if (calls.transactItemKinds.length === 0) {
        throw new Error(
          `${fn.logicalId}: TransactWriteItems is in the bundle but no transaction item was found in the code`,
        );
      }
      actions = calls.transactItemKinds.map((kind) => TRANSACT_ITEM_ACTIONS[kind]!);
    } else {
      actions = rule.actions;
    }
    for (const kind of rule.on) {
      for (const resource of resourcesFor(kind, fn, template, calls)) {
        for (const action of actions) grants.push({ action, resource, because: key });
      }
    }
  }
  for (const internal of calls.internal) {
    if (!INTERNAL_PACKAGES[internal.pkg])
      throw new Error(`${fn.logicalId}: unexplained SDK-internal command ${internal.pkg}:${internal.operation}`);
  }
  for (const q of fn.queues) {
    for (const action of SQS_EVENT_SOURCE_ACTIONS) {
      grants.push({
        action,
        resource: { "Fn::GetAtt": [q.queueLogicalId, "Arn"] },
        because: `SQS event source ${q.queueLogicalId}`,
      });
    }
  }
  const deadLetters = template.Resources[fn.logicalId]?.Properties?.DeadLetterQueue as
    { Type?: string; TargetArn?: Json } | undefined;
  if (deadLetters) {
    const target = (deadLetters.TargetArn as { "Fn::GetAtt"?: [string, string] } | undefined)?.["Fn::GetAtt"];
    if (
      deadLetters.Type !== "SQS" ||
      !target ||
      target[1] !== "Arn" ||
      template.Resources[target[0]]?.Type !== "AWS::SQS::Queue"
    ) {
      throw new Error(
        `${fn.logicalId}: DeadLetterQueue must be { Type: SQS, TargetArn: !GetAtt <an AWS::SQS::Queue>.Arn }`,
      );
    }
    for (const action of SQS_DEAD_LETTER_ACTIONS) {
      grants.push({
        action,
        resource: { "Fn::GetAtt": [target[0], "Arn"] },
        because: `dead-letter queue ${target[0]}`,
      });
    }
  }
  const logGroup = (template.Resources[fn.logicalId]?.Properties?.LoggingConfig as { LogGroup?: Json } | undefined)
    ?.LogGroup;
  const group = refTarget(logGroup, "LoggingConfig.LogGroup", fn.logicalId, template, "AWS::Logs::LogGroup");
  for (const action of LOG_ACTIONS)
    grants.push({ action, resource: { "Fn::GetAtt": [group, "Arn"] }, because: `log group ${group}` });
  return dedupe(grants);
}

function dedupe(grants: Grant[]): Grant[] {
  const seen = new Map<string, Grant>();
  for (const g of grants) {
    const k = grantKey(g);
    const before = seen.get(k);
    seen.set(k, before ? { ...before, because: `${before.because}, ${g.because}` } : g);
  }
  return [...seen.values()].sort((a, b) => grantKey(a).localeCompare(grantKey(b)));
}

export interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: Json;
  NotResource?: unknown;
  Condition?: unknown;
  Principal?: unknown;
  Sid?: string;
}

/** The role a function runs as: its `Role` must be `!GetAtt <Role>.Arn` of an AWS::IAM::Role in the template. */
export function roleOf(logicalId: string, template: Template): string {
  const role = template.Resources[logicalId]?.Properties?.Role as { "Fn::GetAtt"?: [string, string] } | undefined;
  const target = role?.["Fn::GetAtt"];
  if (!target || target[1] !== "Arn" || template.Resources[target[0]]?.Type !== "AWS::IAM::Role") {
    throw new Error(`${logicalId}: Role must be !GetAtt <an AWS::IAM::Role>.Arn, not ${JSON.stringify(role)}`);
  }
  return target[0];
}

/** Every statement that applies to the role: its inline policies, and any policy resource attached to it. */
export function roleStatements(roleLogicalId: string, template: Template): Statement[] {
  const statements: Statement[] = [];
  const fromDocument = (doc: Json) => {
    const s = (doc as { Statement?: Statement | Statement[] } | undefined)?.Statement;
    statements.push(...(Array.isArray(s) ? s : s ? [s] : []));
  };
  const role = template.Resources[roleLogicalId]!.Properties ?? {};
  for (const p of (role.Policies as Array<{ PolicyDocument: Json }> | undefined) ?? []) fromDocument(p.PolicyDocument);
  for (const r of Object.values(template.Resources)) {
    if (!["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"].includes(r.Type)) continue;
    const props = r.Properties ?? {};
    const roles = [...((props.Roles as Json[] | undefined) ?? []), ...(props.RoleName ? [props.RoleName] : [])];
    if (roles.some((x) => JSON.stringify(x) === JSON.stringify({ Ref: roleLogicalId })))
      fromDocument(props.PolicyDocument);
  }
  return statements;
}

/** The (action, resource) pairs the role's statements allow. */
export function grantedGrants(statements: Statement[]): Array<{ action: string; resource: Json }> {
  const out: Array<{ action: string; resource: Json }> = [];
  for (const s of statements) {
    if (s.Effect !== "Allow") continue;
    const actions = Array.isArray(s.Action) ? s.Action : s.Action === undefined ? [] : [s.Action];
    const resources = Array.isArray(s.Resource) ? s.Resource : s.Resource === undefined ? [] : [s.Resource];
    for (const action of actions) for (const resource of resources) out.push({ action, resource });
  }
  return out;
}

/** The function's needs, from a fresh analysis of its bundle. */
export async function needsOf(
  fn: FunctionDefinition,
  template: Template,
): Promise<{ calls: SdkCalls; grants: Grant[] }> {
  const calls = await analyseFunction(fn);
  return { calls, grants: neededGrants(fn, template, calls) };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI: the statements, grouped by resource, in template.yaml's spelling.

function yamlResource(resource: Json): string {
  if (typeof resource === "string") return JSON.stringify(resource);
  const r = resource as Record<string, Json>;
  if (r["Fn::GetAtt"]) return `!GetAtt ${(r["Fn::GetAtt"] as string[]).join(".")}`;
  if (r["Fn::Sub"]) return `!Sub "${String(r["Fn::Sub"])}"`;
  return JSON.stringify(resource);
}

export function statementsYaml(grants: Grant[]): string {
  const byResource = new Map<string, string[]>();
  for (const g of grants) {
    const key = yamlResource(g.resource);
    byResource.set(key, [...(byResource.get(key) ?? []), g.action]);
  }
  return [...byResource.entries()]
    .map(
      ([resource, actions]) =>
        `- Effect: Allow\n  Action: [${[...new Set(actions)].sort().join(", ")}]\n  Resource: ${resource}`,
    )
    .join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const template = loadTemplate();
  for (const fn of functionsOf(template)) {
    const { grants } = await needsOf(fn, template);
    console.log(`# ${fn.logicalId}\n${statementsYaml(grants)}\n`);
  }
}
