/**
 * template.yaml read the way SAM and CloudFormation read it, offline (nobody here can run `sam` or reach AWS):
 * - it parses with CloudFormation's intrinsic tags, and @aws/cloudformation-validate finds nothing wrong with it,
 *   nor with its SAM expansion (scripts/sam-expand.ts), where the validator's resource schemas see the Lambda
 *   functions, event source mappings and HTTP API that SAM generates;
 * - structural checks where the validator is blind to SAM: function, event, HttpApi and esbuild properties SAM
 *   knows, runtimes, handlers, CORS, logs, the table, parameters, outputs, samconfig.toml;
 * - every function bundles with the exact esbuild command `sam build` runs (scripts/sam-esbuild.ts), into the
 *   handler file Lambda loads, byte for byte the bundle the offline stack runs;
 * - every HttpApi route maps to its function's route table (the running offline stack serves exactly those routes:
 *   tests/e2e/http-api.test.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { RegoEngine, TemplateFile, type Engine, type StandardDiagnostic } from "@aws/cloudformation-validate";
import { parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFunction, splitHandler } from "../../local/build.ts";
import {
  cloudFormationTags,
  functionsOf,
  loadTemplate,
  parameterDefaults,
  projectRoot,
  routesOf,
  templatePath,
  type Template,
} from "../../local/template.ts";
import { ENV_JSON } from "../../scripts/env-json.ts";
import { expandSam } from "../../scripts/sam-expand.ts";
import { SAM_ESBUILD_PROPERTIES, samEsbuildArgs } from "../../scripts/sam-esbuild.ts";
import { MetricName, NAMESPACE, PUBLISHED_DIMENSIONS } from "../../shared/metrics.ts";

const template = loadTemplate();
const functions = functionsOf(template);
const resources = template.Resources;
const samFunctions = Object.entries(resources).filter(([, r]) => r.Type === "AWS::Serverless::Function");
const work = mkdtempSync(join(tmpdir(), "stagepass-sam-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------------
// Parsing and the offline validator.

let engine: Engine;
beforeAll(() => {
  engine = new RegoEngine();
}, 180_000);
afterAll(() => engine?.free());

const BLOCKING = new Set(["FATAL", "ERROR", "WARN"]);
function validate(file: string): StandardDiagnostic[] {
  const report = engine.validateStandard(new TemplateFile(file));
  expect(report.status, `${file}: ${JSON.stringify(report.diagnostics.filter((d) => d.severity === "FATAL"))}`).toBe(
    "OK",
  );
  return report.diagnostics.filter((d) => BLOCKING.has(d.severity));
}
const show = (ds: StandardDiagnostic[]) =>
  ds.map((d) => `${d.severity} ${d.ruleId} ${d.entity?.logicalId ?? ""} ${d.propertyPath ?? ""}: ${d.message}`);

/**
 * W1001 ("reference to a conditional resource") is wrong about an Fn::If whose true branch refers to a resource
 * guarded by the If's own condition - CloudFormation evaluates only the branch taken. It reports that in Outputs.
 */
function isGuardedReference(d: StandardDiagnostic, t: Template): boolean {
  if (d.ruleId !== "W1001") return false;
  const m = /^Outputs\/(\w+)\/Value\.Fn::If\.1$/.exec(d.propertyPath ?? "");
  const target = /Reference to '(\w+)'/.exec(d.message)?.[1];
  if (!m || !target) return false;
  const value = (t.Outputs?.[m[1]!] as { Value?: { "Fn::If"?: [string, unknown, unknown] } } | undefined)?.Value?.[
    "Fn::If"
  ];
  return (
    !!value &&
    value[0] === t.Resources[target]?.Condition &&
    JSON.stringify(value[1]) === JSON.stringify({ Ref: target })
  );
}

describe("template.yaml as SAM and CloudFormation read it", () => {
  it("parses with CloudFormation's short-form intrinsic tags, nothing unknown", () => {
    const doc = parseDocument(readFileSync(templatePath, "utf8"), { customTags: cloudFormationTags });
    expect(doc.errors.map(String)).toEqual([]);
    expect(doc.warnings.map(String)).toEqual([]);
    expect(template.AWSTemplateFormatVersion).toBe("2010-09-09");
    expect(template.Transform).toBe("AWS::Serverless-2016-10-31");
    const sections = [
      "AWSTemplateFormatVersion",
      "Transform",
      "Description",
      "Parameters",
      "Conditions",
      "Globals",
      "Resources",
      "Outputs",
      "Mappings",
      "Metadata",
      "Rules",
    ];
    expect(Object.keys(template).filter((k) => !sections.includes(k))).toEqual([]);
  });

  it("@aws/cloudformation-validate: no error or warning in the template", () => {
    const found = validate(templatePath).filter((d) => !isGuardedReference(d, template));
    expect(show(found)).toEqual([]);
  });

  it("@aws/cloudformation-validate: no error or warning in its SAM expansion (Lambda, event sources, HTTP API schemas)", () => {
    const expanded = expandSam(template);
    const file = join(work, "expanded.json");
    writeFileSync(file, JSON.stringify(expanded));
    const found = validate(file).filter(
      (d) =>
        !isGuardedReference(d, expanded) &&
        // SAM writes the origins into the API before deployment, so the parameter is no longer referenced there.
        !(d.ruleId === "W2001" && d.entity?.logicalId === "CorsAllowedOrigins"),
    );
    expect(show(found)).toEqual([]);
    expect(Object.values(expanded.Resources).filter((r) => r.Type === "AWS::Lambda::Function")).toHaveLength(
      functions.length,
    );
    expect(Object.values(expanded.Resources).filter((r) => r.Type === "AWS::ApiGatewayV2::Route")).toHaveLength(
      routesOf(template).length,
    );
  });

  it("the validator does see the expansion's Lambda properties (a broken copy fails)", () => {
    const broken = expandSam(template);
    const fn = broken.Resources.TokenFunction!.Properties!;
    fn.Runtime = "nodejs99.x";
    fn.LoggingConfig = { LogGroupName: { Ref: "TokenLogGroup" }, LogGroupX: "x" };
    fn.Role = { "Fn::GetAtt": ["NoSuchRole", "Arn"] };
    const file = join(work, "broken.json");
    writeFileSync(file, JSON.stringify(broken));
    const ids = validate(file)
      .filter((d) => d.entity?.logicalId === "TokenFunction")
      .map((d) => d.ruleId);
    expect(ids).toEqual(expect.arrayContaining(["W3030", "F3002"]));
    expect(validate(file).some((d) => /NoSuchRole/.test(d.message))).toBe(true);
  });
});

// cfn-lint, AWS's CloudFormation linter (a Python tool, not an npm package): run when it is on PATH.
const cfnLint = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" });
const hasCfnLint = cfnLint.status === 0;
if (!hasCfnLint)
  console.warn(
    `cfn-lint is not on PATH (${cfnLint.error?.message ?? cfnLint.stderr}): template.yaml is not linted with it here (pip install cfn-lint)`,
  );

describe.skipIf(!hasCfnLint)("cfn-lint", () => {
  it("finds nothing in template.yaml, and does find a broken copy's faults", () => {
    // The same linter, shown a fault in the operations resources, in the same run (one Python start, not two): it
    // is looking at them.
    const broken = join(work, "broken-template.yaml");
    writeFileSync(
      broken,
      readFileSync(templatePath, "utf8").replace(
        "ComparisonOperator: GreaterThanThreshold\n      Threshold: 300",
        "ComparisonOperator: MoreThan\n      Threshold: 300",
      ),
    );
    const run = spawnSync("cfn-lint", ["--format", "parseable", "--", templatePath, broken], {
      encoding: "utf8",
      cwd: projectRoot,
    });
    expect(run.stderr).toBe("");
    const lines = run.stdout.split("\n").filter(Boolean);
    expect(lines.filter((line) => !line.startsWith(broken))).toEqual([]);
    expect(run.status).not.toBe(0);
    expect(lines.filter((line) => line.startsWith(broken)).join("\n")).toMatch(/:E3030:'MoreThan' is not one of/);
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------------------------
// Where the validator is blind: SAM's own resources.

// https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html
const SAM_FUNCTION_PROPERTIES = [
  "Architectures",
  "AssumeRolePolicyDocument",
  "AutoPublishAlias",
  "AutoPublishAliasAllProperties",
  "AutoPublishCodeSha256",
  "CapacityProviderConfig",
  "CodeSigningConfigArn",
  "CodeUri",
  "DeadLetterQueue",
  "DeploymentPreference",
  "Description",
  "DurableConfig",
  "Environment",
  "EphemeralStorage",
  "EventInvokeConfig",
  "Events",
  "FileSystemConfigs",
  "FunctionName",
  "FunctionScalingConfig",
  "FunctionUrlConfig",
  "Handler",
  "ImageConfig",
  "ImageUri",
  "InlineCode",
  "KmsKeyArn",
  "Layers",
  "LoggingConfig",
  "MemorySize",
  "PackageType",
  "PermissionsBoundary",
  "Policies",
  "PropagateTags",
  "ProvisionedConcurrencyConfig",
  "PublishToLatestPublished",
  "RecursiveLoop",
  "ReservedConcurrentExecutions",
  "Role",
  "RolePath",
  "Runtime",
  "RuntimeManagementConfig",
  "SnapStart",
  "SourceKMSKeyArn",
  "Tags",
  "Timeout",
  "Tracing",
  "VersionDeletionPolicy",
  "VersionDescription",
  "VpcConfig",
];
// Function properties SAM's Globals section accepts (sam-specification-template-anatomy-globals).
const SAM_GLOBAL_FUNCTION_PROPERTIES = [
  "Architectures",
  "AssumeRolePolicyDocument",
  "AutoPublishAlias",
  "AutoPublishAliasAllProperties",
  "CodeSigningConfigArn",
  "CodeUri",
  "DeadLetterQueue",
  "DeploymentPreference",
  "Description",
  "Environment",
  "EphemeralStorage",
  "EventInvokeConfig",
  "FileSystemConfigs",
  "FunctionUrlConfig",
  "Handler",
  "KmsKeyArn",
  "Layers",
  "LoggingConfig",
  "MemorySize",
  "PermissionsBoundary",
  "PropagateTags",
  "ProvisionedConcurrencyConfig",
  "RecursiveLoop",
  "ReservedConcurrentExecutions",
  "RolePath",
  "Runtime",
  "RuntimeManagementConfig",
  "SnapStart",
  "SourceKMSKeyArn",
  "Tags",
  "Timeout",
  "Tracing",
  "VpcConfig",
];
const SAM_HTTPAPI_PROPERTIES = [
  "AccessLogSettings",
  "Auth",
  "CorsConfiguration",
  "DefaultRouteSettings",
  "DefinitionBody",
  "DefinitionUri",
  "Description",
  "DisableExecuteApiEndpoint",
  "Domain",
  "FailOnWarnings",
  "Name",
  "PropagateTags",
  "RouteSettings",
  "StageName",
  "StageVariables",
  "Tags",
];
const HTTPAPI_EVENT_PROPERTIES = [
  "ApiId",
  "Auth",
  "Method",
  "Path",
  "PayloadFormatVersion",
  "RouteSettings",
  "TimeoutInMillis",
];
const SQS_EVENT_PROPERTIES = [
  "Queue",
  "BatchSize",
  "Enabled",
  "FilterCriteria",
  "FunctionResponseTypes",
  "KmsKeyArn",
  "MaximumBatchingWindowInSeconds",
  "MetricsConfig",
  "ScalingConfig",
];
// https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-schedule.html
const SCHEDULE_EVENT_PROPERTIES = [
  "DeadLetterConfig",
  "Description",
  "Enabled",
  "Input",
  "Name",
  "RetryPolicy",
  "Schedule",
  "State",
];
// https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-eventbridgerule.html
const EVENTBRIDGE_RULE_EVENT_PROPERTIES = [
  "DeadLetterConfig",
  "EventBusName",
  "Input",
  "InputPath",
  "InputTransformer",
  "Pattern",
  "RetryPolicy",
  "RuleName",
  "State",
  "Target",
];
const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"];
const packageJson = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));

describe("functions, as SAM builds and deploys them", () => {
  it("use only properties SAM knows, in the function and in Globals", () => {
    for (const [id, r] of samFunctions) {
      expect(
        Object.keys(r.Properties ?? {}).filter((k) => !SAM_FUNCTION_PROPERTIES.includes(k)),
        id,
      ).toEqual([]);
    }
    expect(
      Object.keys(template.Globals?.Function ?? {}).filter((k) => !SAM_GLOBAL_FUNCTION_PROPERTIES.includes(k)),
    ).toEqual([]);
    expect(
      Object.keys(template.Globals ?? {}).filter(
        (k) => !["Function", "Api", "HttpApi", "SimpleTable", "LayerVersion", "StateMachine"].includes(k),
      ),
    ).toEqual([]);
  });

  it("run on Node.js 22 (the Node the project pins and runs its scripts on) on arm64, the esbuild target matching the runtime", () => {
    const runtimes = new Set<string>();
    for (const fn of functions) {
      const props = { ...template.Globals?.Function, ...resources[fn.logicalId]!.Properties };
      runtimes.add(String(props.Runtime));
      expect(props.Runtime, fn.logicalId).toBe("nodejs22.x");
      expect(props.Architectures, fn.logicalId).toEqual(["arm64"]);
      expect(fn.buildProperties.Target, fn.logicalId).toBe(`node${/^nodejs(\d+)\.x$/.exec(String(props.Runtime))![1]}`);
    }
    expect([...runtimes]).toEqual(["nodejs22.x"]);
    expect(packageJson.devDependencies.node).toMatch(/^\^22\./);
  });

  it("are built by SAM's esbuild workflow with properties it reads, and esbuild where `sam build` finds it", () => {
    const lists = ["EntryPoints", "External", "Loader", "OutExtension", "Banner"];
    const singles = ["Target", "Format", "MainFields", "SourcesContent"];
    for (const [id, r] of samFunctions) {
      const meta = r.Metadata ?? {};
      expect(meta.BuildMethod, id).toBe("esbuild");
      const bp = meta.BuildProperties as Record<string, unknown>;
      expect(
        Object.keys(bp).filter((k) => !SAM_ESBUILD_PROPERTIES.includes(k)),
        `${id}: sam build ignores these`,
      ).toEqual([]);
      for (const k of lists) if (k in bp) expect(Array.isArray(bp[k]), `${id}.${k} must be a list`).toBe(true);
      // SAM prints a single-valued property into one `--flag=value`: a YAML list there reaches esbuild as "['a', 'b']".
      for (const k of singles) if (k in bp) expect(typeof bp[k], `${id}.${k} must be a scalar`).toBe("string");
      for (const k of ["Minify", "Sourcemap", "UseNpmCi"])
        if (k in bp) expect(typeof bp[k], `${id}.${k}`).toBe("boolean");
      // ESM (top-level await in each index.ts) as .mjs, since the artifact has no package.json saying "module"; CommonJS
      // dependencies in an ES module bundle need a `require`, which the banner provides.
      expect(bp.Format, id).toBe("esm");
      expect(bp.OutExtension, id).toEqual([".js=.mjs"]);
      expect(String((bp.Banner as string[])[0]), id).toMatch(
        /^js=import \{ createRequire as (\w+) \} from 'node:module'; const require = \1\(import\.meta\.url\);$/,
      );
      expect(bp.MainFields, `${id}: ES modules first, so that esbuild can leave out what is not used`).toBe(
        "module,main",
      );
      // `npm ci` (the lockfile's versions) rather than `npm install --production`, which would leave out esbuild.
      expect(bp.UseNpmCi, id).toBe(true);
      expect(r.Properties?.CodeUri, id).toBe("./");
      for (const entry of bp.EntryPoints as string[]) expect(existsSync(join(projectRoot, entry)), entry).toBe(true);
    }
    expect(existsSync(join(projectRoot, "package-lock.json"))).toBe(true);
    expect(Object.keys(packageJson.devDependencies)).toContain("esbuild");
  });

  it.each(functions.map((f) => [f.logicalId, f] as const))(
    "%s bundles with the esbuild command sam build runs, into its handler file, the bytes the offline stack runs",
    async (id, fn) => {
      const out = join(work, "sam", id);
      const args = samEsbuildArgs(fn.buildProperties, out);
      execFileSync(join(projectRoot, "node_modules", ".bin", "esbuild"), [...args, `--metafile=${out}.meta.json`], {
        cwd: projectRoot,
        stdio: "pipe",
      });
      const [moduleName, exportName] = splitHandler(fn.handler);
      expect(readdirSync(out), id).toEqual([`${moduleName}.mjs`]);
      const meta = JSON.parse(readFileSync(`${out}.meta.json`, "utf8"));
      const output = Object.entries(meta.outputs as Record<string, { exports: string[] }>).find(([file]) =>
        file.endsWith(`${moduleName}.mjs`),
      )!;
      expect(output[1].exports, id).toContain(exportName);
      // local/build.ts, right after (the sources are the same): byte for byte what sam build makes.
      const local = await buildFunction(fn, join(work, "local"));
      expect(
        readFileSync(local.bundlePath, "utf8") === readFileSync(join(out, `${moduleName}.mjs`), "utf8"),
        `${id}: local/build.ts and sam build differ`,
      ).toBe(true);
    },
    60_000,
  );

  it("log to a log group of their own with the template's retention", () => {
    const groups = samFunctions.map(([id, r]) => {
      const lc = r.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined;
      const group = lc?.LogGroup?.Ref;
      expect(
        Object.keys(lc ?? {}).filter(
          (k) => !["LogGroup", "LogFormat", "ApplicationLogLevel", "SystemLogLevel"].includes(k),
        ),
        id,
      ).toEqual([]);
      expect(resources[group ?? ""]?.Type, id).toBe("AWS::Logs::LogGroup");
      expect(resources[group!]!.Properties?.RetentionInDays, id).toEqual({ Ref: "LogRetentionDays" });
      return group;
    });
    expect(new Set(groups).size).toBe(samFunctions.length);
  });

  it("declare the endpoint variables sam local needs as AWS::NoValue, and no other variable so", () => {
    for (const fn of functions) {
      for (const [name, value] of Object.entries(fn.environment)) {
        if (JSON.stringify(value) === JSON.stringify({ Ref: "AWS::NoValue" }))
          expect(name, fn.logicalId).toMatch(/^(AWS_ENDPOINT_URL_[A-Z_]+|JWKS_URI)$/);
      }
    }
    const declares = (id: string) => Object.keys(functions.find((f) => f.logicalId === id)!.environment);
    expect(declares("TokenFunction")).toEqual(
      expect.arrayContaining(["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_IVS_REALTIME", "JWKS_URI"]),
    );
  });
});

describe("events and the HTTP API, as SAM turns them into routes", () => {
  const api = Object.entries(resources).filter(([, r]) => r.Type === "AWS::Serverless::HttpApi");

  it("one HttpApi with properties SAM knows; every HttpApi event names it, a method and a path", () => {
    expect(api).toHaveLength(1);
    const [apiId, apiResource] = api[0]!;
    expect(Object.keys(apiResource.Properties ?? {}).filter((k) => !SAM_HTTPAPI_PROPERTIES.includes(k))).toEqual([]);
    for (const [id, r] of samFunctions) {
      for (const [name, e] of Object.entries(
        (r.Properties?.Events ?? {}) as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      )) {
        expect(["HttpApi", "SQS", "Schedule", "EventBridgeRule"], `${id}.${name}`).toContain(e.Type);
        if (e.Type === "Schedule") {
          expect(
            Object.keys(e.Properties).filter((k) => !SCHEDULE_EVENT_PROPERTIES.includes(k)),
            `${id}.${name}`,
          ).toEqual([]);
          expect(String(e.Properties.Schedule), `${id}.${name}`).toMatch(
            /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/,
          );
        } else if (e.Type === "EventBridgeRule") {
          expect(
            Object.keys(e.Properties).filter((k) => !EVENTBRIDGE_RULE_EVENT_PROPERTIES.includes(k)),
            `${id}.${name}`,
          ).toEqual([]);
          // IVS's events only, and only this account's; what EventBridge cannot deliver is kept.
          expect((e.Properties.Pattern as Record<string, unknown>).source, `${id}.${name}`).toEqual(["aws.ivs"]);
          expect((e.Properties.Pattern as Record<string, unknown>).account, `${id}.${name}`).toEqual([
            { Ref: "AWS::AccountId" },
          ]);
          const dlq = (e.Properties.DeadLetterConfig as { Arn?: { "Fn::GetAtt"?: [string, string] } } | undefined)
            ?.Arn?.["Fn::GetAtt"];
          expect(resources[dlq?.[0] ?? ""]?.Type, `${id}.${name} DeadLetterConfig`).toBe("AWS::SQS::Queue");
        } else if (e.Type === "HttpApi") {
          expect(
            Object.keys(e.Properties).filter((k) => !HTTPAPI_EVENT_PROPERTIES.includes(k)),
            `${id}.${name}`,
          ).toEqual([]);
          expect(e.Properties.ApiId, `${id}.${name}`).toEqual({ Ref: apiId });
          expect(HTTP_METHODS, `${id}.${name}`).toContain(String(e.Properties.Method));
          expect(String(e.Properties.Path), `${id}.${name}`).toMatch(/^(\/([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\}))+$/);
        } else {
          expect(
            Object.keys(e.Properties).filter((k) => !SQS_EVENT_PROPERTIES.includes(k)),
            `${id}.${name}`,
          ).toEqual([]);
          const queue = (e.Properties.Queue as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"];
          expect(resources[queue[0]]?.Type).toBe("AWS::SQS::Queue");
          expect(queue[1]).toBe("Arn");
          // CreateEventSourceMapping refuses a queue whose visibility timeout is shorter than the function's timeout.
          const fn = functions.find((f) => f.logicalId === id)!;
          expect(
            Number(resources[queue[0]]!.Properties?.VisibilityTimeout ?? 30),
            `${queue[0]} VisibilityTimeout`,
          ).toBeGreaterThanOrEqual(fn.timeoutSeconds);
          const batch = Number(e.Properties.BatchSize ?? 10);
          expect(batch).toBeGreaterThanOrEqual(1);
          expect(batch).toBeLessThanOrEqual(10);
          expect(
            resources[queue[0]]!.Properties?.RedrivePolicy,
            `${queue[0]} dead-letters what keeps failing`,
          ).toBeDefined();
        }
      }
    }
    const keys = routesOf(template).map((r) => r.routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("every route maps to its function's route table, and every route table entry is a route of the template", async () => {
    for (const fn of functions) {
      const file = join(projectRoot, dirname(fn.entryPoint), "routes.ts");
      if (!existsSync(file)) {
        expect(fn.routes, `${fn.logicalId} has HttpApi events but no routes.ts`).toEqual([]);
        continue;
      }
      const mod = await import(pathToFileURL(file).href);
      // Some tables are functions of their dependencies; building them only creates closures.
      const table = typeof mod.routes === "function" ? mod.routes({}) : mod.routes;
      expect(Object.keys(table).sort(), fn.logicalId).toEqual(fn.routes.map((r) => r.routeKey).sort());
    }
  });

  it("CORS: only parameter Refs as intrinsics (SAM resolves those before deploying), every method and header the API uses", () => {
    const cors = api[0]![1].Properties!.CorsConfiguration as Record<string, unknown>;
    expect(
      Object.keys(cors).filter(
        (k) =>
          !["AllowCredentials", "AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders", "MaxAge"].includes(k),
      ),
    ).toEqual([]);
    const intrinsics = (v: unknown): Array<Record<string, unknown>> =>
      Array.isArray(v)
        ? v.flatMap(intrinsics)
        : v && typeof v === "object"
          ? Object.keys(v).some((k) => k === "Ref" || k.startsWith("Fn::"))
            ? [v as Record<string, unknown>]
            : Object.values(v).flatMap(intrinsics)
          : [];
    for (const i of intrinsics(cors)) {
      expect(Object.keys(i)).toEqual(["Ref"]);
      expect(template.Parameters?.[String(i.Ref)], `${String(i.Ref)} is a parameter`).toBeDefined();
    }
    const methods = new Set(routesOf(template).map((r) => r.method));
    expect(cors.AllowMethods).toEqual(expect.arrayContaining([...methods]));
    expect(cors.AllowHeaders).toEqual(expect.arrayContaining(["authorization", "content-type", "idempotency-key"]));
    expect(cors.ExposeHeaders).toEqual(expect.arrayContaining(["location", "retry-after", "x-request-id"]));
    expect(cors.AllowCredentials).toBeUndefined();
    expect(parameterDefaults(template).CorsAllowedOrigins).not.toContain("*");
  });
});

describe("the rest of the stack", () => {
  it("the table is the foundation's: pk/sk, gsi1 keys only, TTL on expiresAt, on demand, PITR, kept on delete", () => {
    const tables = Object.entries(resources).filter(([, r]) => r.Type === "AWS::DynamoDB::Table");
    expect(tables.map(([id]) => id)).toEqual(["Table"]);
    const t = resources.Table!;
    expect(t).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    expect(t.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "gsi1",
          KeySchema: [
            { AttributeName: "gsi1pk", KeyType: "HASH" },
            { AttributeName: "gsi1sk", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it("parameters: the user pool (or one made by the stack), CORS origins, groups, log level; every default acceptable", () => {
    const p = template.Parameters!;
    for (const [name, type] of Object.entries({
      UserPoolId: "String",
      UserPoolClientIds: "String",
      CorsAllowedOrigins: "CommaDelimitedList",
      AdminGroup: "String",
      RoomCreatorGroups: "String",
      LogLevel: "String",
      LogRetentionDays: "Number",
    }))
      expect(p[name]?.Type, name).toBe(type);
    for (const [name, def] of Object.entries(p) as Array<[string, Record<string, unknown>]>) {
      expect(["String", "Number", "CommaDelimitedList"], name).toContain(def.Type);
      expect(typeof def.Description, `${name} has a Description for sam deploy --guided`).toBe("string");
      if (def.Default === undefined) continue;
      const value = String(def.Default);
      if (def.AllowedPattern)
        expect(new RegExp(String(def.AllowedPattern), "u").test(value), `${name} default vs AllowedPattern`).toBe(true);
      if (def.AllowedValues) expect((def.AllowedValues as unknown[]).map(String), name).toContain(value);
      if (def.MinValue !== undefined) expect(Number(value), name).toBeGreaterThanOrEqual(Number(def.MinValue));
      if (def.MaxValue !== undefined) expect(Number(value), name).toBeLessThanOrEqual(Number(def.MaxValue));
    }
    expect(template.Conditions?.CreateUserPool).toEqual({ "Fn::Equals": [{ Ref: "UserPoolId" }, ""] });
    for (const id of ["UserPool", "UserPoolClient", "UserPoolAdminGroup"])
      expect(resources[id]?.Condition, id).toBe("CreateUserPool");
    for (const id of Object.keys(resources)) {
      const c = resources[id]!.Condition;
      if (c) expect(template.Conditions?.[c], `${id}.Condition`).toBeDefined();
    }
  });

  it("outputs: the API URL, the table, the user pool and its client", () => {
    expect(Object.keys(template.Outputs ?? {})).toEqual(
      expect.arrayContaining(["ApiUrl", "TableName", "UserPoolId", "UserPoolClientId"]),
    );
    expect((template.Outputs!.ApiUrl as { Value: unknown }).Value).toEqual({
      "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Operations (docs/operations.md): the alarms, the topic they notify, the dashboard, and the metrics they read.

type Alarm = { Properties: Record<string, any> };
const alarms = Object.entries(resources).filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm") as Array<
  [string, Alarm]
>;
/** An alarm's metrics: its own, or those of its metric math. */
type AlarmMetric = { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: any }> };
const alarmMetrics = (alarm: Alarm): AlarmMetric[] =>
  alarm.Properties.Metrics
    ? (alarm.Properties.Metrics as Array<{ MetricStat?: { Metric: AlarmMetric } }>)
        .filter((m) => m.MetricStat)
        .map((m) => m.MetricStat!.Metric)
    : [alarm.Properties as AlarmMetric];
const dimensionsOf = (metric: AlarmMetric): Record<string, any> =>
  Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
const findAlarm = (test: (metric: ReturnType<typeof alarmMetrics>[number]) => boolean) =>
  alarms.filter(([, a]) => alarmMetrics(a).some(test)).map(([id]) => id);

/** The dashboard's body as CloudFormation makes it: every ${...} of its Fn::Sub a parameter, resource, attribute or pseudo parameter. */
function dashboardBody(): { widgets: Array<{ type: string; properties: Record<string, any> }> } {
  const dashboards = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Dashboard");
  expect(dashboards).toHaveLength(1);
  const sub = (dashboards[0]!.Properties!.DashboardBody as { "Fn::Sub": string })["Fn::Sub"];
  expect(typeof sub).toBe("string");
  const resolved = sub.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
    if (["AWS::Region", "AWS::StackName", "AWS::AccountId", "AWS::Partition"].includes(name)) return `<${name}>`;
    const [id, attribute] = name.split(".") as [string, string | undefined];
    expect(
      resources[id] ?? (attribute ? undefined : template.Parameters?.[id]),
      `\${${name}} in the dashboard`,
    ).toBeDefined();
    return `<${name}>`;
  });
  return JSON.parse(resolved);
}

describe("operations: alarms, their topic and the dashboard", () => {
  it("every alarm notifies the alarm topic when it fires and when it recovers, and names its docs/operations.md section", () => {
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    const guide = readFileSync(join(projectRoot, "docs", "operations.md"), "utf8");
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: "AlarmTopic" }]);
      expect(alarm.Properties.OKActions, id).toEqual([{ Ref: "AlarmTopic" }]);
      expect(alarm.Properties.TreatMissingData, id).toBeDefined();
      const section = /docs\/operations\.md, (\w+)\)/.exec(JSON.stringify(alarm.Properties.AlarmDescription))?.[1];
      expect(section, `${id}'s description names its section`).toBeDefined();
      expect(guide, `docs/operations.md has a section on ${section}`).toMatch(
        new RegExp(`^#+ .*\\b${section}\\b`, "m"),
      );
    }
    expect(resources.AlarmTopic?.Type).toBe("AWS::SNS::Topic");
  });

  it("the topic's subscription is the AlarmEndpoint parameter, none when it is empty (the default)", () => {
    const subscriptions = Object.entries(resources).filter(([, r]) => r.Type === "AWS::SNS::Subscription");
    expect(subscriptions.map(([id]) => id)).toEqual(["AlarmSubscription"]);
    const [, subscription] = subscriptions[0]!;
    expect(subscription.Condition).toBe("SubscribeToAlarms");
    expect(template.Conditions?.SubscribeToAlarms).toEqual({
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "AlarmEndpoint" }, ""] }],
    });
    expect(subscription.Properties).toEqual({
      TopicArn: { Ref: "AlarmTopic" },
      Protocol: { Ref: "AlarmProtocol" },
      Endpoint: { Ref: "AlarmEndpoint" },
    });
    expect(parameterDefaults(template).AlarmEndpoint).toBe("");
  });

  it("alarms on the API's 5xx rate, sustained IVS throttling, each dead-letter queue, the disconnect queue's age, token p99", () => {
    // The 5xx rate: metric math over the HTTP API's 5xx and Count.
    const api = findAlarm(
      (m) => m.Namespace === "AWS/ApiGateway" && m.MetricName === "5xx" && dimensionsOf(m).ApiId?.Ref === "HttpApi",
    );
    expect(api).toHaveLength(1);
    const rate = resources[api[0]!]!.Properties!;
    expect(findAlarm((m) => m.Namespace === "AWS/ApiGateway" && m.MetricName === "Count")).toEqual(api);
    expect(
      (rate.Metrics as Array<{ Expression?: string; ReturnData?: boolean }>).filter((m) => m.ReturnData !== false),
    ).toEqual([expect.objectContaining({ Expression: expect.stringMatching(/errors \/ requests/) })]);
    // IVS throttling: the sum over every operation, for several minutes.
    const ivs = findAlarm((m) => m.Namespace === NAMESPACE && m.MetricName === MetricName.IvsThrottles);
    expect(ivs).toHaveLength(1);
    expect(dimensionsOf(resources[ivs[0]!]!.Properties as any)).toEqual({ service: { Ref: "AWS::StackName" } });
    expect(Number(resources[ivs[0]!]!.Properties!.EvaluationPeriods)).toBeGreaterThan(1);
    // Every dead-letter queue (the target of a redrive policy, or named so): more than 0 messages.
    const deadLetterQueues = Object.entries(resources)
      .filter(
        ([id, r]) =>
          r.Type === "AWS::SQS::Queue" &&
          (/DeadLetter/.test(id) ||
            Object.values(resources).some(
              (q) => (q.Properties?.RedrivePolicy as any)?.deadLetterTargetArn?.["Fn::GetAtt"]?.[0] === id,
            )),
      )
      .map(([id]) => id);
    expect(deadLetterQueues.length).toBeGreaterThanOrEqual(1);
    for (const queue of deadLetterQueues) {
      const found = findAlarm(
        (m) =>
          m.Namespace === "AWS/SQS" &&
          m.MetricName === "ApproximateNumberOfMessagesVisible" &&
          JSON.stringify(dimensionsOf(m).QueueName) === JSON.stringify({ "Fn::GetAtt": [queue, "QueueName"] }),
      );
      expect(found, `${queue} has a depth alarm`).toHaveLength(1);
      expect(resources[found[0]!]!.Properties).toMatchObject({
        ComparisonOperator: "GreaterThanThreshold",
        Threshold: 0,
        TreatMissingData: "ignore",
      });
    }
    // The disconnect queue's oldest message.
    expect(
      findAlarm(
        (m) =>
          m.Namespace === "AWS/SQS" &&
          m.MetricName === "ApproximateAgeOfOldestMessage" &&
          JSON.stringify(dimensionsOf(m).QueueName) ===
            JSON.stringify({ "Fn::GetAtt": ["DisconnectQueue", "QueueName"] }),
      ),
    ).toHaveLength(1);
    // The token function's p99.
    const token = findAlarm(
      (m) =>
        m.Namespace === "AWS/Lambda" &&
        m.MetricName === "Duration" &&
        dimensionsOf(m).FunctionName?.Ref === "TokenFunction",
    );
    expect(token).toHaveLength(1);
    expect(resources[token[0]!]!.Properties!.ExtendedStatistic).toBe("p99");
  });

  it("alarms on our metrics ask for a published metric with dimensions it is published with, service being the stack", () => {
    expect(template.Globals?.Function?.Environment).toMatchObject({
      Variables: { POWERTOOLS_SERVICE_NAME: { Ref: "AWS::StackName" } },
    });
    for (const [id, alarm] of alarms) {
      for (const metric of alarmMetrics(alarm).filter((m) => m.Namespace === NAMESPACE)) {
        const name = metric.MetricName as MetricName;
        expect(Object.values(MetricName), id).toContain(name);
        expect(
          PUBLISHED_DIMENSIONS[name].map((set) => [...set].sort().join()),
          id,
        ).toContain(Object.keys(dimensionsOf(metric)).sort().join());
        expect(dimensionsOf(metric).service, id).toEqual({ Ref: "AWS::StackName" });
      }
    }
  });

  it("the dashboard shows every metric stagepass publishes, each as it is published, and every alarm", () => {
    const body = dashboardBody();
    const shown = new Set<string>();
    for (const widget of body.widgets) {
      if (widget.type === "alarm") {
        expect(new Set(widget.properties.alarms)).toEqual(new Set(alarms.map(([id]) => `<${id}.Arn>`)));
        continue;
      }
      expect(widget.type).toBe("metric");
      expect(widget.properties.region).toBe("<AWS::Region>");
      for (const line of widget.properties.metrics as unknown[][]) {
        const options = line.at(-1) as { expression?: string } | undefined;
        if (options && typeof options === "object" && options.expression) {
          // SEARCH('{namespace,dimensions...} MetricName="X" service="<stack>" ...', ...)
          const search = /^SEARCH\('\{(\w+),([\w,]+)\} MetricName="(\w+)" service="<AWS::StackName>"/.exec(
            options.expression,
          );
          expect(search, options.expression).not.toBeNull();
          const [, namespace, dims, name] = search!;
          expect(namespace).toBe(NAMESPACE);
          expect(
            PUBLISHED_DIMENSIONS[name as MetricName]?.map((set) => [...set].sort().join()),
            options.expression,
          ).toContain(dims!.split(",").sort().join());
          shown.add(name!);
          continue;
        }
        const [namespace, name, ...rest] = line.filter((part) => typeof part === "string") as string[];
        if (namespace !== NAMESPACE) continue;
        const dimensions = Object.fromEntries(
          Array.from({ length: rest.length / 2 }, (_, i) => [rest[2 * i], rest[2 * i + 1]]),
        );
        expect(
          PUBLISHED_DIMENSIONS[name as MetricName]?.map((set) => [...set].sort().join()),
          `${name} ${JSON.stringify(dimensions)}`,
        ).toContain(Object.keys(dimensions).sort().join());
        expect(dimensions.service).toBe("<AWS::StackName>");
        shown.add(name!);
      }
    }
    expect([...shown].sort()).toEqual(Object.values(MetricName).sort());
  });
});

// ---------------------------------------------------------------------------------------------------------------
// samconfig.toml, read with a strict parser for the small part of TOML it may use.

type TomlValue = string | number | boolean | string[];
function parseToml(text: string): {
  top: Record<string, TomlValue>;
  tables: Record<string, Record<string, TomlValue>>;
} {
  const top: Record<string, TomlValue> = {};
  const tables: Record<string, Record<string, TomlValue>> = {};
  let current = top;
  const value = (raw: string, line: number): TomlValue => {
    if (/^"[^"\\]*"$/.test(raw)) return raw.slice(1, -1);
    if (raw === "true" || raw === "false") return raw === "true";
    if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
    if (/^\[\s*("[^"\\]*"\s*(,\s*"[^"\\]*"\s*)*)?\]$/.test(raw))
      return [...raw.matchAll(/"([^"\\]*)"/g)].map((m) => m[1]!);
    throw new Error(`samconfig.toml:${line}: value not understood: ${raw}`);
  };
  text.split("\n").forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) return;
    const table = /^\[([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)\]$/.exec(line);
    if (table) {
      if (tables[table[1]!]) throw new Error(`samconfig.toml:${i + 1}: table [${table[1]}] twice`);
      current = tables[table[1]!] = {};
      return;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+?)\s*(#.*)?$/.exec(line);
    if (!kv) throw new Error(`samconfig.toml:${i + 1}: not understood: ${line}`);
    if (kv[1]! in current) throw new Error(`samconfig.toml:${i + 1}: ${kv[1]} twice`);
    current[kv[1]!] = value(kv[2]!, i + 1);
  });
  return { top, tables };
}

// The options of each command this file configures (`sam <command> --help`; samconfig keys are the long options
// with dashes as underscores).
const SAM_COMMAND_OPTIONS: Record<string, string[]> = {
  global: ["stack_name", "region", "profile", "template_file", "beta_features", "debug"],
  build: [
    "cached",
    "parallel",
    "use_container",
    "build_dir",
    "cache_dir",
    "manifest",
    "parameter_overrides",
    "skip_pull_image",
    "build_in_source",
    "mount_with",
    "exclude",
    "container_env_var",
    "build_image",
    "docker_network",
    "template_file",
    "region",
    "profile",
  ],
  validate: ["lint", "template_file", "region", "profile"],
  deploy: [
    "stack_name",
    "s3_bucket",
    "s3_prefix",
    "resolve_s3",
    "region",
    "profile",
    "capabilities",
    "confirm_changeset",
    "fail_on_empty_changeset",
    "parameter_overrides",
    "tags",
    "disable_rollback",
    "on_failure",
    "image_repositories",
    "resolve_image_repos",
    "kms_key_id",
    "role_arn",
    "notification_arns",
    "no_execute_changeset",
    "force_upload",
    "signing_profiles",
    "template_file",
    "max_wait_duration",
  ],
  package: [
    "resolve_s3",
    "s3_bucket",
    "s3_prefix",
    "output_template_file",
    "region",
    "profile",
    "force_upload",
    "kms_key_id",
    "template_file",
  ],
  sync: [
    "watch",
    "stack_name",
    "code",
    "resource_id",
    "resource",
    "dependency_layer",
    "skip_deploy_sync",
    "build_in_source",
    "capabilities",
    "parameter_overrides",
    "s3_bucket",
    "s3_prefix",
    "region",
    "profile",
    "tags",
    "template_file",
  ],
  local_invoke: [
    "env_vars",
    "parameter_overrides",
    "docker_network",
    "event",
    "container_env_vars",
    "debug_port",
    "warm_containers",
    "skip_pull_image",
    "region",
    "profile",
    "template_file",
    "add_host",
  ],
  local_start_api: [
    "env_vars",
    "parameter_overrides",
    "docker_network",
    "warm_containers",
    "port",
    "host",
    "static_dir",
    "skip_pull_image",
    "region",
    "profile",
    "template_file",
    "add_host",
    "container_env_vars",
  ],
  delete: ["stack_name", "region", "profile", "no_prompts", "s3_bucket", "s3_prefix"],
};

describe("samconfig.toml, for the current SAM CLI", () => {
  const config = parseToml(readFileSync(join(projectRoot, "samconfig.toml"), "utf8"));

  it("is version 0.1 with [<environment>.<command>.parameters] tables of options those commands have", () => {
    expect(config.top).toEqual({ version: 0.1 });
    for (const [name, options] of Object.entries(config.tables)) {
      const m = /^(\w+)\.(\w+)\.parameters$/.exec(name);
      expect(m, `[${name}]`).not.toBeNull();
      const known = SAM_COMMAND_OPTIONS[m![2]!];
      expect(known, `[${name}]: a command this test knows`).toBeDefined();
      expect(
        Object.keys(options).filter((k) => !known!.includes(k)),
        `[${name}]`,
      ).toEqual([]);
    }
    for (const command of ["build", "deploy", "local_invoke"])
      expect(Object.keys(config.tables)).toContain(`default.${command}.parameters`);
  });

  it("deploys with the capabilities the template needs, and its parameter overrides name real parameters", () => {
    const deploy = config.tables["default.deploy.parameters"]!;
    const capabilities = String(deploy.capabilities).split(" ");
    expect(capabilities).toContain("CAPABILITY_IAM");
    const namedRoles = Object.values(resources).some((r) => r.Type.startsWith("AWS::IAM::") && r.Properties?.RoleName);
    if (namedRoles) expect(capabilities).toContain("CAPABILITY_NAMED_IAM");
    expect(deploy.resolve_s3 === true || typeof deploy.s3_bucket === "string").toBe(true);
    const stackName = deploy.stack_name ?? config.tables["default.global.parameters"]?.stack_name;
    expect(String(stackName)).toMatch(/^[A-Za-z][A-Za-z0-9-]{0,127}$/);
    for (const [name, table] of Object.entries(config.tables)) {
      if (table.parameter_overrides === undefined) continue;
      const names = [...String(table.parameter_overrides).matchAll(/(?:^|\s)(?:ParameterKey=)?(\w+)=/g)].map(
        (m) => m[1]!,
      );
      for (const n of names) expect(Object.keys(template.Parameters ?? {}), `[${name}] ${n}`).toContain(n);
    }
  });

  it("points sam local at env.json, which scripts/env-json.ts writes and git does not keep (its ports change at every start)", () => {
    for (const command of ["local_invoke", "local_start_api"]) {
      const file = config.tables[`default.${command}.parameters`]?.env_vars;
      if (file !== undefined) expect(String(file), command).toBe(ENV_JSON);
    }
    expect(config.tables["default.local_invoke.parameters"]!.env_vars).toBe(ENV_JSON);
    expect(readFileSync(join(projectRoot, ".gitignore"), "utf8").split("\n")).toContain(ENV_JSON);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The deployment guide keeps up with the template.

describe("docs/deployment.md and the README", () => {
  it("the guide names every parameter, and the README ends with the deployment section", () => {
    const guide = readFileSync(join(projectRoot, "docs", "deployment.md"), "utf8");
    for (const name of Object.keys(template.Parameters ?? {})) expect(guide, name).toContain(`\`${name}\``);
    const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
    const section = readme.slice(readme.lastIndexOf("\n## ") + 1);
    expect(section.split("\n")[0]).toBe("## Deploying to AWS");
    for (const needle of [
      "sam build",
      "sam deploy --guided",
      "sam delete",
      "sam local invoke",
      "/token",
      "env.json",
      "events/",
    ])
      expect(section, needle).toContain(needle);
  });

  it("the README's prerequisites name the Node.js that package.json's engines asks of the machine", () => {
    const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
    const major = /^>=(\d+)$/.exec(packageJson.engines.node)?.[1];
    expect(major, "engines.node is >=<major>").toBeDefined();
    expect(readme).toMatch(new RegExp(`^Prerequisites: Node\\.js ${major} or newer with npm`, "m"));
  });
});
