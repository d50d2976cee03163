/**
 * local/template.ts — how the offline stack reads template.yaml (short-form tags, intrinsic functions, Globals,
 * routes, queues). The environment each function of the running stack gets from it: tests/e2e/environment-overrides.test.ts.
 */
import { describe, expect, it } from "vitest";
import {
  functionsOf,
  httpApiCorsOf,
  loadTemplate,
  parameterDefaults,
  parseTemplate,
  resolveIntrinsics,
  routesOf,
  tableOf,
  type ResolveContext,
  type Template,
} from "../../local/template.ts";

const ctx = (over: Partial<ResolveContext> = {}): ResolveContext => ({
  parameters: { Stage: "dev", PoolId: "", Origins: ["https://a.example", "https://b.example"], Rate: 10 },
  resources: { Table: "my-table", Pool: "us-east-1_Pool", Queue: "https://sqs.local/123/queue" },
  attributes: { "Queue.Arn": "arn:aws:sqs:us-east-1:123:queue", "Table.StreamArn": "arn:aws:dynamodb:stream" },
  pseudo: { "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::StackName": "stack" },
  conditions: {
    NoPool: { "Fn::Equals": [{ Ref: "PoolId" }, ""] },
    IsProd: { "Fn::Equals": [{ Ref: "Stage" }, "prod"] },
    NotProd: { "Fn::Not": [{ Condition: "IsProd" }] },
    Both: { "Fn::And": [{ Condition: "NoPool" }, { Condition: "NotProd" }] },
    Either: { "Fn::Or": [{ Condition: "IsProd" }, { Condition: "NoPool" }] },
  },
  ...over,
});

describe("parseTemplate: CloudFormation's short-form tags", () => {
  it("turns every short form into the long form, in scalar, sequence and mapping positions", () => {
    const t = parseTemplate(`
Resources:
  X:
    Type: Test
    Properties:
      ref: !Ref Table
      attScalar: !GetAtt Queue.Arn
      attDotted: !GetAtt Db.Endpoint.Address
      attList: !GetAtt [Queue, Arn]
      sub: !Sub "\${AWS::StackName}-users"
      subVars: !Sub ["\${A}-x", { A: !Ref Stage }]
      if: !If [IsProd, a, b]
      join: !Join [",", [a, !Ref Stage]]
      select: !Select [1, !Split [",", "a,b,c"]]
      equals: !Equals [!Ref Stage, prod]
      not: !Not [!Condition IsProd]
      base64: !Base64 text
`);
    expect(t.Resources.X!.Properties).toEqual({
      ref: { Ref: "Table" },
      attScalar: { "Fn::GetAtt": ["Queue", "Arn"] },
      attDotted: { "Fn::GetAtt": ["Db", "Endpoint.Address"] },
      attList: { "Fn::GetAtt": ["Queue", "Arn"] },
      sub: { "Fn::Sub": "${AWS::StackName}-users" },
      subVars: { "Fn::Sub": ["${A}-x", { A: { Ref: "Stage" } }] },
      if: { "Fn::If": ["IsProd", "a", "b"] },
      join: { "Fn::Join": [",", ["a", { Ref: "Stage" }]] },
      select: { "Fn::Select": [1, { "Fn::Split": [",", "a,b,c"] }] },
      equals: { "Fn::Equals": [{ Ref: "Stage" }, "prod"] },
      not: { "Fn::Not": [{ Condition: "IsProd" }] },
      base64: { "Fn::Base64": "text" },
    });
  });
});

describe("resolveIntrinsics", () => {
  it("Ref resolves parameters, then resources, then pseudo parameters", () => {
    expect(resolveIntrinsics({ Ref: "Stage" }, ctx())).toBe("dev");
    expect(resolveIntrinsics({ Ref: "Rate" }, ctx())).toBe(10);
    expect(resolveIntrinsics({ Ref: "Origins" }, ctx())).toEqual(["https://a.example", "https://b.example"]);
    expect(resolveIntrinsics({ Ref: "Table" }, ctx())).toBe("my-table");
    expect(resolveIntrinsics({ Ref: "AWS::Region" }, ctx())).toBe("eu-west-1");
    // A parameter shadows a resource of the same name (CloudFormation forbids the clash; parameters win here).
    expect(resolveIntrinsics({ Ref: "Table" }, ctx({ parameters: { Table: "param" } }))).toBe("param");
  });

  it("Ref to something unknown is an error that names it", () => {
    expect(() => resolveIntrinsics({ Ref: "Nope" }, ctx())).toThrow(/Ref Nope/);
    expect(() => resolveIntrinsics({ Ref: "AWS::Partition" }, ctx())).toThrow(/AWS::Partition/);
  });

  it("Ref AWS::NoValue removes the property or list item that holds it", () => {
    const value = {
      keep: 1,
      drop: { "Fn::If": ["IsProd", "x", { Ref: "AWS::NoValue" }] },
      list: ["a", { "Fn::If": ["IsProd", "b", { Ref: "AWS::NoValue" }] }, "c"],
    };
    expect(resolveIntrinsics(value, ctx())).toEqual({ keep: 1, list: ["a", "c"] });
    expect(resolveIntrinsics(value, ctx({ parameters: { ...ctx().parameters, Stage: "prod" } }))).toEqual({
      keep: 1,
      drop: "x",
      list: ["a", "b", "c"],
    });
  });

  it("Fn::If follows its condition, and conditions compose (Equals, Not, And, Or, Condition)", () => {
    expect(resolveIntrinsics({ "Fn::If": ["NoPool", { Ref: "Pool" }, { Ref: "PoolId" }] }, ctx())).toBe(
      "us-east-1_Pool",
    );
    const withPool = ctx({ parameters: { ...ctx().parameters, PoolId: "eu-west-1_Given" } });
    expect(resolveIntrinsics({ "Fn::If": ["NoPool", { Ref: "Pool" }, { Ref: "PoolId" }] }, withPool)).toBe(
      "eu-west-1_Given",
    );
    expect(resolveIntrinsics({ "Fn::If": ["NotProd", "yes", "no"] }, ctx())).toBe("yes");
    expect(resolveIntrinsics({ "Fn::If": ["Both", "yes", "no"] }, ctx())).toBe("yes");
    expect(resolveIntrinsics({ "Fn::If": ["Both", "yes", "no"] }, withPool)).toBe("no");
    expect(resolveIntrinsics({ "Fn::If": ["Either", "yes", "no"] }, withPool)).toBe("no");
    // Only the branch taken is resolved: the other may hold a Ref with no local value.
    expect(resolveIntrinsics({ "Fn::If": ["NotProd", "ok", { Ref: "Missing" }] }, ctx())).toBe("ok");
    expect(() => resolveIntrinsics({ "Fn::If": ["Unknown", 1, 2] }, ctx())).toThrow(/unknown condition Unknown/);
  });

  it("Fn::Sub substitutes ${Param}, ${Resource}, ${Resource.Attr}, ${AWS::Pseudo}, its own variables and ${!Literal}", () => {
    expect(resolveIntrinsics({ "Fn::Sub": "${AWS::StackName}-${Stage}-users" }, ctx())).toBe("stack-dev-users");
    expect(resolveIntrinsics({ "Fn::Sub": "table=${Table} queue=${Queue.Arn}" }, ctx())).toBe(
      "table=my-table queue=arn:aws:sqs:us-east-1:123:queue",
    );
    expect(resolveIntrinsics({ "Fn::Sub": ["${Name}.${AWS::Region}", { Name: { Ref: "Stage" } }] }, ctx())).toBe(
      "dev.eu-west-1",
    );
    expect(resolveIntrinsics({ "Fn::Sub": "literal ${!NotAVariable} and ${Stage}" }, ctx())).toBe(
      "literal ${NotAVariable} and dev",
    );
    expect(() => resolveIntrinsics({ "Fn::Sub": "${Queue.Nope}" }, ctx())).toThrow(/Queue\.Nope/);
  });

  it("Fn::GetAtt reads the attribute table, and names what is missing", () => {
    expect(resolveIntrinsics({ "Fn::GetAtt": ["Queue", "Arn"] }, ctx())).toBe("arn:aws:sqs:us-east-1:123:queue");
    expect(() => resolveIntrinsics({ "Fn::GetAtt": ["Table", "Arn"] }, ctx())).toThrow(/Fn::GetAtt Table\.Arn/);
  });

  it("Fn::Join, Fn::Split and Fn::Select, also over resolved lists", () => {
    expect(resolveIntrinsics({ "Fn::Join": ["-", ["a", { Ref: "Stage" }, { Ref: "AWS::Region" }]] }, ctx())).toBe(
      "a-dev-eu-west-1",
    );
    expect(resolveIntrinsics({ "Fn::Join": [",", { Ref: "Origins" }] }, ctx())).toBe(
      "https://a.example,https://b.example",
    );
    expect(resolveIntrinsics({ "Fn::Select": [1, { "Fn::Split": [",", "x,y,z"] }] }, ctx())).toBe("y");
  });

  it("resolves inside nested objects and lists, and leaves plain values alone", () => {
    const value = { a: [{ Ref: "Stage" }, 1, true, null], b: { c: { "Fn::Sub": "${Table}" } }, d: "plain" };
    expect(resolveIntrinsics(value, ctx())).toEqual({ a: ["dev", 1, true, null], b: { c: "my-table" }, d: "plain" });
  });
});

const SMALL = `
Parameters:
  Level: { Type: String, Default: INFO }
  Origins: { Type: CommaDelimitedList, Default: "https://a.example, https://b.example" }
  Rate: { Type: Number, Default: 10 }
  Empty: { Type: String }
Globals:
  Function:
    Handler: index.handler
    Timeout: 10
    MemorySize: 512
    Environment:
      Variables:
        LEVEL: !Ref Level
        SHARED: global
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          SHARED: mine
          ONLY_API: "1"
      Events:
        Get: { Type: HttpApi, Properties: { Method: get, Path: "/things/{id}" } }
        Post: { Type: HttpApi, Properties: { Method: POST, Path: /things } }
    Metadata:
      BuildProperties: { EntryPoints: [functions/api/index.ts], Format: esm }
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: worker.run
      Timeout: 50
      MemorySize: 128
      Events:
        FromJobs: { Type: SQS, Properties: { Queue: !GetAtt Jobs.Arn, BatchSize: 5 } }
        Defaulted: { Type: SQS, Properties: { Queue: !GetAtt Jobs.Arn } }
    Metadata:
      BuildProperties: { EntryPoints: [functions/worker/index.ts] }
  NotAFunction:
    Type: AWS::Logs::LogGroup
`;

describe("functionsOf / routesOf / parameterDefaults", () => {
  const small = parseTemplate(SMALL);

  it("merges Globals into each function: environment (function wins), handler, timeout, memory", () => {
    const [api, worker] = functionsOf(small);
    expect(functionsOf(small).map((f) => f.logicalId)).toEqual(["Api", "Worker"]);
    expect(api).toMatchObject({
      handler: "index.handler",
      entryPoint: "functions/api/index.ts",
      timeoutSeconds: 10,
      memorySize: 512,
      environment: { LEVEL: { Ref: "Level" }, SHARED: "mine", ONLY_API: "1" },
      buildProperties: { EntryPoints: ["functions/api/index.ts"], Format: "esm" },
    });
    expect(worker).toMatchObject({
      handler: "worker.run",
      timeoutSeconds: 50,
      memorySize: 128,
      environment: { LEVEL: { Ref: "Level" }, SHARED: "global" },
    });
  });

  it("reads HttpApi events as routes (method upper-cased, API Gateway routeKey) and SQS events as queues", () => {
    const [api, worker] = functionsOf(small);
    expect(api!.routes).toEqual([
      { method: "GET", path: "/things/{id}", routeKey: "GET /things/{id}", eventName: "Get" },
      { method: "POST", path: "/things", routeKey: "POST /things", eventName: "Post" },
    ]);
    expect(api!.queues).toEqual([]);
    expect(worker!.routes).toEqual([]);
    expect(worker!.queues).toEqual([
      { queueLogicalId: "Jobs", batchSize: 5 },
      { queueLogicalId: "Jobs", batchSize: 10 },
    ]);
    expect(routesOf(small).map((r) => `${r.functionLogicalId} ${r.routeKey}`)).toEqual([
      "Api GET /things/{id}",
      "Api POST /things",
    ]);
  });

  it("rejects a function without an entry point and an SQS event whose queue is not !GetAtt <Queue>.Arn", () => {
    const noEntry = parseTemplate(SMALL.replace("EntryPoints: [functions/worker/index.ts]", "Format: esm"));
    expect(() => functionsOf(noEntry)).toThrow(/Worker: Metadata\.BuildProperties\.EntryPoints is missing/);
    const badQueue = parseTemplate(
      SMALL.replace("Queue: !GetAtt Jobs.Arn, BatchSize: 5", "Queue: arn:aws:sqs:x, BatchSize: 5"),
    );
    expect(() => functionsOf(badQueue)).toThrow(/Worker\.FromJobs: SQS Queue must be !GetAtt/);
  });

  it("parameter defaults: CommaDelimitedList becomes a trimmed list, numbers stay numbers, no default is empty", () => {
    expect(parameterDefaults(small)).toEqual({
      Level: "INFO",
      Origins: ["https://a.example", "https://b.example"],
      Rate: 10,
      Empty: "",
    });
  });

  it("tableOf insists on exactly one table", () => {
    expect(() => tableOf(small)).toThrow(/exactly one DynamoDB table, found 0/);
    const two: Template = { Resources: { A: { Type: "AWS::DynamoDB::Table" }, B: { Type: "AWS::DynamoDB::Table" } } };
    expect(() => tableOf(two)).toThrow(/found 2/);
  });
});

describe("template.yaml as the offline stack reads it", () => {
  const template = loadTemplate();

  it("has the project's functions, each with an esbuild entry point, and unique routeKeys", () => {
    const fns = functionsOf(template);
    expect(fns.map((f) => f.logicalId)).toEqual(
      expect.arrayContaining([
        "DisconnectWorkerFunction",
        "HealthFunction",
        "ModerationFunction",
        "RoomsFunction",
        "TokenFunction",
      ]),
    );
    for (const fn of fns) expect(fn.entryPoint).toMatch(/^functions\/[a-z-]+\/index\.ts$/);
    const keys = routesOf(template).map((r) => r.routeKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeGreaterThan(0);
  });

  it("the disconnect worker consumes DisconnectQueue in batches of 5 with its own 50 s timeout", () => {
    const worker = functionsOf(template).find((f) => f.logicalId === "DisconnectWorkerFunction")!;
    expect(worker.queues).toEqual([{ queueLogicalId: "DisconnectQueue", batchSize: 5 }]);
    expect(worker.timeoutSeconds).toBe(50);
    expect(worker.routes).toEqual([]);
  });

  it("CORS configuration comes from the HttpApi resource (methods upper-cased, header names lower-cased)", () => {
    const api = Object.values(template.Resources).find((r) => r.Type === "AWS::Serverless::HttpApi")!;
    const raw = api.Properties!.CorsConfiguration as {
      AllowOrigins: unknown;
      AllowMethods: string[];
      AllowHeaders: string[];
      ExposeHeaders: string[];
      MaxAge: number;
    };
    expect(httpApiCorsOf(template)).toEqual({
      allowOrigins: raw.AllowOrigins,
      allowMethods: raw.AllowMethods.map((m) => m.toUpperCase()),
      allowHeaders: raw.AllowHeaders.map((h) => h.toLowerCase()),
      exposeHeaders: raw.ExposeHeaders.map((h) => h.toLowerCase()),
      maxAge: raw.MaxAge,
    });
    expect(raw.AllowOrigins).toEqual({ Ref: "CorsAllowedOrigins" });
    // The offline stack's default lets a Vite dev server call it (README.md).
    expect(parameterDefaults(template).CorsAllowedOrigins).toContain("http://localhost:5173");
    const small = parseTemplate(`
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: { AllowOrigins: ["*"], AllowMethods: [get], AllowHeaders: [Authorization], ExposeHeaders: [X-Request-Id] }
`);
    expect(httpApiCorsOf(small)).toEqual({
      allowOrigins: ["*"],
      allowMethods: ["GET"],
      allowHeaders: ["authorization"],
      exposeHeaders: ["x-request-id"],
    });
    expect(httpApiCorsOf({ Resources: {} })).toBeUndefined();
  });

  it("every Globals variable resolves with the template's defaults, a created pool and a given pool", () => {
    const globals = functionsOf(template)[0]!.environment;
    const base: ResolveContext = {
      parameters: parameterDefaults(template),
      resources: {
        Table: "t",
        UserPool: "created-pool",
        UserPoolClient: "created-client",
        DisconnectQueue: "https://q",
      },
      pseudo: { "AWS::StackName": "my-stack" },
      conditions: template.Conditions ?? {},
    };
    expect(resolveIntrinsics(globals, base)).toMatchObject({
      TABLE_NAME: "t",
      USER_POOL_ID: "created-pool",
      USER_POOL_CLIENT_IDS: "created-client",
      TOKEN_USE: "id",
      ADMIN_GROUP: "admin",
      ROOM_CREATOR_GROUPS: "",
      TOKEN_RATE_PER_MINUTE: 10,
      TOKEN_MODE: "api",
      DISCONNECT_QUEUE_URL: "https://q",
      POWERTOOLS_SERVICE_NAME: "my-stack",
    });
    const given = {
      ...base,
      parameters: { ...base.parameters, UserPoolId: "eu-west-1_Given", UserPoolClientIds: "c1,c2" },
    };
    expect(resolveIntrinsics(globals, given)).toMatchObject({
      USER_POOL_ID: "eu-west-1_Given",
      USER_POOL_CLIENT_IDS: "c1,c2",
    });
  });
});
