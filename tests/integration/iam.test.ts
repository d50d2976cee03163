/**
 * Per-function IAM, derived from the code: each function's role in template.yaml must grant exactly the actions its
 * bundle's SDK commands need (scripts/iam-map.ts, the one map from command to actions), on the resources they touch,
 * plus what Lambda does with the role (its SQS event source, its log group) — no more, no less, and no wildcards.
 * How the commands are read from the bundle, and why that is sound: scripts/sdk-calls.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFunction } from "../../local/build.ts";
import { functionsOf, loadTemplate, projectRoot, type FunctionDefinition } from "../../local/template.ts";
import { COMMAND_IAM } from "../../scripts/iam-map.ts";
import {
  grantedGrants,
  grantKey,
  needsOf,
  neededGrants,
  roleOf,
  roleStatements,
  type Grant,
  type Statement,
} from "../../scripts/iam-policy.ts";
import { analyseFunction, deployedCommands, liveModules, type SdkCalls } from "../../scripts/sdk-calls.ts";

const template = loadTemplate();
const functions = functionsOf(template);
const needs = new Map<string, { calls: SdkCalls; grants: Grant[] }>();
const deployDir = mkdtempSync(join(tmpdir(), "stagepass-iam-"));
const deployed = new Map<string, { code: string; modules: string[]; commands: string[] }>();

beforeAll(async () => {
  // One function at a time: the machine is shared.
  for (const fn of functions) {
    needs.set(fn.logicalId, await needsOf(fn, template));
    const built = await buildFunction(fn, deployDir);
    deployed.set(fn.logicalId, {
      code: readFileSync(built.bundlePath, "utf8"),
      modules: liveModules(built.metafile),
      commands: deployedCommands(built.metafile).map((c) => `${c.pkg}:${c.operation}`),
    });
  }
}, 180_000);
afterAll(() => rmSync(deployDir, { recursive: true, force: true }));

const allStatements = (): Array<{ where: string; statement: Statement }> =>
  Object.entries(template.Resources).flatMap(([logicalId, r]) => {
    if (r.Type === "AWS::IAM::Role")
      return roleStatements(logicalId, template).map((statement) => ({ where: logicalId, statement }));
    return [];
  });

describe("each function's role grants exactly what its code and Lambda need", () => {
  for (const fn of functions) {
    it(fn.logicalId, () => {
      const need = needs.get(fn.logicalId)!;
      const granted = grantedGrants(roleStatements(roleOf(fn.logicalId, template), template)).map(grantKey);
      expect(new Set(granted).size, `${fn.logicalId} grants the same action on the same resource twice`).toBe(
        granted.length,
      );
      const needed = need.grants.map(grantKey);
      const missing = needed.filter((k) => !granted.includes(k));
      const extra = granted.filter((k) => !needed.includes(k));
      expect({ missing, extra }, `${fn.logicalId}: \`npx tsx scripts/iam-policy.ts\` prints what it needs`).toEqual({
        missing: [],
        extra: [],
      });
    });
  }

  it("the derivation is not empty-handed: every function but health calls AWS, and the token path stays narrow", () => {
    const actions = (id: string) => [...new Set(needs.get(id)!.grants.map((g) => g.action))].sort();
    expect(actions("HealthFunction")).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    // The hot path: one read, one transaction (its item actions, not TransactWriteItems), one IVS call; and in
    // self-signed mode the signing key, read once per container.
    expect(actions("TokenFunction")).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "ivs:CreateParticipantToken",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "secretsmanager:GetSecretValue",
    ]);
    expect(actions("SigningKeyFunction")).toEqual([
      "ivs:DeletePublicKey",
      "ivs:ImportPublicKey",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
    ]);
    expect(actions("DisconnectWorkerFunction")).toEqual([
      "ivs:DisconnectParticipant",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
    ]);
    expect(actions("RoomsFunction")).toEqual(
      expect.arrayContaining([
        "ivs:CreateStage",
        "ivs:TagResource",
        "ivs:ListStages",
        "dynamodb:Query",
        "sqs:SendMessage",
      ]),
    );
    // Webhooks: the queue it polls (with the retry waits and the sweep's sends), the one secret, the outbox.
    expect(actions("WebhookFunction")).toEqual([
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "secretsmanager:GetSecretValue",
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]);
    // Stage Update events into the table, the reads that repair them and the watch's list of stages; nothing that
    // changes a stage.
    expect(actions("LiveStateFunction")).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:PutItem",
      "ivs:GetStage",
      "ivs:ListParticipantEvents",
      "ivs:ListParticipants",
      "ivs:ListStages",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "sqs:SendMessage",
    ]);
    // ...its dead letters and the webhook events of who is on stage; nothing of the disconnect queue.
    expect(
      needs
        .get("LiveStateFunction")!
        .grants.filter((g) => g.action === "sqs:SendMessage")
        .map((g) => g.resource),
    ).toEqual([{ "Fn::GetAtt": ["LiveStateDeadLetterQueue", "Arn"] }, { "Fn::GetAtt": ["WebhookQueue", "Arn"] }]);
  });
});

describe("no permission wider than needed", () => {
  it("no wildcard in any action, only Allow, no NotAction/NotResource", () => {
    const statements = allStatements();
    expect(statements.length).toBeGreaterThan(0);
    for (const { where, statement } of statements) {
      expect(statement.Effect, where).toBe("Allow");
      expect(statement.NotAction, where).toBeUndefined();
      expect(statement.NotResource, where).toBeUndefined();
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      for (const action of actions) expect(action, where).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    }
  });

  it('Resource "*" only for ivs:ListStages, which has no resource ARN', () => {
    for (const { where, statement } of allStatements()) {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      if (resources.includes("*")) expect([statement.Action].flat(), where).toEqual(["ivs:ListStages"]);
      for (const r of resources) if (typeof r === "string") expect(r, where).toBe("*");
    }
  });

  it("IVS actions are scoped to the account's stages (public-key actions to its public keys); DynamoDB to the table and its named indexes; secrets and queues to those the function names", () => {
    const stages = { "Fn::Sub": "arn:${AWS::Partition}:ivs:${AWS::Region}:${AWS::AccountId}:stage/*" };
    const publicKeys = { "Fn::Sub": "arn:${AWS::Partition}:ivs:${AWS::Region}:${AWS::AccountId}:public-key/*" };
    for (const fn of functions) {
      for (const g of grantedGrants(roleStatements(roleOf(fn.logicalId, template), template))) {
        if (g.action.startsWith("ivs:") && g.action !== "ivs:ListStages") {
          expect(g.resource, `${fn.logicalId} ${g.action}`).toEqual(
            g.action.endsWith("PublicKey") ? publicKeys : stages,
          );
        }
        // The webhook function reads the webhook secret; the token and signing-key functions the signing key.
        if (g.action.startsWith("secretsmanager:")) {
          expect(g.resource, `${fn.logicalId} ${g.action}`).toEqual({
            Ref: fn.logicalId === "WebhookFunction" ? "WebhookSecret" : "SigningKeySecret",
          });
        }
        if (g.action.startsWith("dynamodb:")) {
          expect(
            [{ "Fn::GetAtt": ["Table", "Arn"] }, { "Fn::Sub": "${Table.Arn}/index/gsi1" }],
            `${fn.logicalId} ${g.action}`,
          ).toContainEqual(g.resource);
        }
        if (g.action.startsWith("sqs:")) {
          // The disconnect and webhook queues (the webhook function only its own), or the function's own dead-letter
          // queue (Lambda sends its failed async invocations there).
          const deadLetters = (
            template.Resources[fn.logicalId]!.Properties!.DeadLetterQueue as { TargetArn?: object } | undefined
          )?.TargetArn;
          const named = fn.logicalId === "WebhookFunction" ? ["WebhookQueue"] : ["DisconnectQueue", "WebhookQueue"];
          const queues: object[] = [
            ...named.map((q) => ({ "Fn::GetAtt": [q, "Arn"] })),
            ...(deadLetters ? [deadLetters] : []),
          ];
          expect(queues, `${fn.logicalId} ${g.action}`).toContainEqual(g.resource);
        }
        if (g.action.startsWith("logs:")) {
          const group = (template.Resources[fn.logicalId]!.Properties!.LoggingConfig as { LogGroup: { Ref: string } })
            .LogGroup.Ref;
          expect(g.resource, `${fn.logicalId} ${g.action}`).toEqual({ "Fn::GetAtt": [group, "Arn"] });
        }
      }
    }
  });

  it("one role per function, trusted by Lambda only, with no managed policies, boundaries or names", () => {
    const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::IAM::Role");
    const used = functions.map((fn) => roleOf(fn.logicalId, template));
    expect(new Set(used).size, "functions share a role").toBe(functions.length);
    expect(roles.map(([id]) => id).sort(), "a role no function uses").toEqual([...used].sort());
    for (const [id, role] of roles) {
      const p = role.Properties ?? {};
      expect(p.AssumeRolePolicyDocument, id).toEqual({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      });
      // SAM's own policies (AWSLambdaBasicExecutionRole on every log group, AWSLambdaSQSQueueExecutionRole on every
      // queue) are what a role of our own avoids; a RoleName would need CAPABILITY_NAMED_IAM.
      expect(p.ManagedPolicyArns, id).toBeUndefined();
      expect(p.PermissionsBoundary, id).toBeUndefined();
      expect(p.RoleName, id).toBeUndefined();
    }
    for (const fn of functions) {
      // With Role set SAM ignores Policies: one there would read as a grant that is not made.
      expect(template.Resources[fn.logicalId]!.Properties!.Policies, fn.logicalId).toBeUndefined();
    }
    expect(
      Object.values(template.Resources).filter((r) =>
        /^AWS::IAM::(Policy|ManagedPolicy|RolePolicy|User|Group)$/.test(r.Type),
      ),
    ).toEqual([]);
  });
});

describe("the analysis reads the bundle that deploys", () => {
  it("every command it finds is in the deployed bundle, with its operation name in the minified code (SDK or lite client)", () => {
    for (const fn of functions) {
      const d = deployed.get(fn.logicalId)!;
      for (const c of needs.get(fn.logicalId)!.calls.commands) {
        expect(d.commands, fn.logicalId).toContain(`${c.pkg}:${c.operation}`);
        // The SDK's command names the operation ("BatchGetItem"); the lite client its wire form
        // ("DynamoDB_20120810.BatchGetItem", "/CreateParticipantToken").
        expect(
          new RegExp(`["./]${c.operation}"`).test(d.code),
          `${fn.logicalId}: "${c.operation}" in the minified bundle`,
        ).toBe(true);
      }
    }
  });

  it("commands the deployed bundle holds beyond those are held only by lib-dynamodb's unused paginators", () => {
    for (const fn of functions) {
      const d = deployed.get(fn.logicalId)!;
      const found = needs.get(fn.logicalId)!.calls.commands.map((c) => `${c.pkg}:${c.operation}`);
      for (const extra of d.commands.filter((c) => !found.includes(c))) {
        const operation = extra.split(":")[1]!;
        expect(extra, fn.logicalId).toMatch(/^@aws-sdk\/client-dynamodb:/);
        expect(d.modules, `${fn.logicalId}: ${extra}`).toContain(
          `node_modules/@aws-sdk/lib-dynamodb/dist-es/pagination/${operation}Paginator.js`,
        );
        // ...and no code of ours references a paginator.
        for (const m of needs.get(fn.logicalId)!.calls.projectModules) {
          expect(readFileSync(join(projectRoot, m), "utf8"), m).not.toMatch(/\bpaginate[A-Z]/);
        }
      }
    }
  });

  it("commands it leaves out of IAM are never sent: endpoint discovery is off, credentials come from the environment", () => {
    for (const fn of functions) {
      for (const c of needs.get(fn.logicalId)!.calls.commands) {
        const rule = COMMAND_IAM[`${c.pkg}:${c.operation}`];
        if (rule && "never" in rule) expect(c.operation).toBe("DescribeEndpoints");
      }
      expect(Object.keys(fn.environment)).not.toContain("AWS_ENABLE_ENDPOINT_DISCOVERY");
      expect(Object.keys(fn.environment)).not.toContain("AWS_ENDPOINT_DISCOVERY_ENABLED");
      for (const m of needs.get(fn.logicalId)!.calls.projectModules) {
        expect(readFileSync(join(projectRoot, m), "utf8"), m).not.toMatch(/endpointDiscoveryEnabled/);
      }
    }
  });
});

// A probe function, to show the analysis sees what code sends: a Scan on an index, a transaction with a delete, an
// IVS call, and a command no map entry covers.
describe("the analysis on a probe", () => {
  const probeDir = join(projectRoot, ".build", `iam-probe-${process.pid}`);
  const probe = (name: string, code: string): FunctionDefinition => {
    mkdirSync(probeDir, { recursive: true });
    writeFileSync(join(probeDir, `${name}.ts`), code);
    // The token function's definition (environment, log group), another entry point.
    const base = functions.find((f) => f.logicalId === "TokenFunction")!;
    return { ...base, entryPoint: `.build/${probeDir.split("/").pop()}/${name}.ts` };
  };
  afterAll(() => rmSync(probeDir, { recursive: true, force: true }));

  it("finds Scan on an index, a transaction's item kinds and an IVS call; maps them; refuses an unmapped command", async () => {
    const fn = probe(
      "calls",
      `
      import { DynamoDBClient, CreateTableCommand } from "@aws-sdk/client-dynamodb";
      import { DynamoDBDocumentClient, ScanCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
      import { IVSRealTimeClient, GetStageCommand } from "@aws-sdk/client-ivs-realtime";
      const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
      export const handler = async (e: { create?: boolean }) => {
        await doc.send(new ScanCommand({ TableName: "t", IndexName: "gsi1" }));
        await doc.send(new TransactWriteCommand({ TransactItems: [{ Delete: { TableName: "t", Key: { pk: "a", sk: "b" } } }] }));
        await new IVSRealTimeClient({}).send(new GetStageCommand({ arn: "x" }));
        if (e.create) await doc.send(new CreateTableCommand({ TableName: "t", KeySchema: [], AttributeDefinitions: [] }));
      };
    `,
    );
    const calls = await analyseFunction(fn);
    const ops = calls.commands.map((c) => c.operation);
    expect(ops).toEqual(expect.arrayContaining(["Scan", "TransactWriteItems", "GetStage", "CreateTable"]));
    expect(ops).not.toContain("Query");
    expect(calls.transactItemKinds).toEqual(["Delete"]);
    expect(calls.indexNames).toEqual(["gsi1"]);
    expect(() => neededGrants(fn, template, calls)).toThrow(/CreateTable, which scripts\/iam-map\.ts does not map/);
    const mapped = neededGrants(fn, template, {
      ...calls,
      commands: calls.commands.filter((c) => c.operation !== "CreateTable"),
    }).map(grantKey);
    expect(mapped).toEqual(
      expect.arrayContaining([
        grantKey({ action: "dynamodb:Scan", resource: { "Fn::Sub": "${Table.Arn}/index/gsi1" } }),
        grantKey({ action: "dynamodb:DeleteItem", resource: { "Fn::GetAtt": ["Table", "Arn"] } }),
        grantKey({
          action: "ivs:GetStage",
          resource: { "Fn::Sub": "arn:${AWS::Partition}:ivs:${AWS::Region}:${AWS::AccountId}:stage/*" },
        }),
      ]),
    );
    expect(mapped.some((k) => k.startsWith("dynamodb:TransactWriteItems"))).toBe(false);
  }, 60_000);

  it("an import or a function that no live code uses adds nothing", async () => {
    const fn = probe(
      "unused",
      `
      import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
      import { DynamoDBDocumentClient, GetCommand, DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
      const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
      function neverCalled() { return doc.send(new PutCommand({ TableName: "t", Item: {} })); }
      export const handler = async () => doc.send(new GetCommand({ TableName: "t", Key: { pk: "a", sk: "b" } }));
    `,
    );
    const ops = (await analyseFunction(fn)).commands.map((c) => c.operation);
    expect(ops).toContain("GetItem");
    for (const unused of ["DeleteItem", "PutItem", "Scan", "Query"]) expect(ops).not.toContain(unused);
  }, 60_000);
});
