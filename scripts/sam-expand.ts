// A small stand-in for the AWS::Serverless transform, enough to hand the result to a CloudFormation validator: an
// offline validator checks AWS::Lambda::Function, AWS::Lambda::EventSourceMapping and AWS::ApiGatewayV2::* against
// their resource schemas, but knows nothing of AWS::Serverless::*. The expansion follows what SAM generates for the
// features this template uses, and refuses anything else rather than guess:
//   - Globals.Function merged into each function (scalars: the function wins; Environment.Variables: merged);
//   - AWS::Serverless::Function → AWS::Lambda::Function (Code stands for the artifact `sam deploy` uploads), one
//     AWS::Lambda::Permission per HttpApi event, one AWS::Lambda::EventSourceMapping per SQS event, one
//     AWS::Events::Rule (and its Permission) per Schedule or EventBridgeRule event; DeadLetterQueue →
//     DeadLetterConfig, EventInvokeConfig → AWS::Lambda::EventInvokeConfig;
//   - AWS::Serverless::HttpApi → AWS::ApiGatewayV2::Api + $default Stage (with the API's AccessLogSettings), and a
//     Route and Integration per event
//     (SAM writes them into the API's OpenAPI body instead; the CloudFormation shape carries the same facts), with
//     CorsConfiguration's parameter Refs resolved as SAM resolves them before deployment.
//
//   npx tsx scripts/sam-expand.ts        prints the expanded template as JSON
import { fileURLToPath } from "node:url";
import { loadTemplate, parameterDefaults, type Template } from "../local/template.ts";

type Json = unknown;
type Props = Record<string, Json>;

/** SAM function properties that are CloudFormation's AWS::Lambda::Function properties under the same name. */
const LAMBDA_PASS_THROUGH = [
  "Architectures",
  "Description",
  "Environment",
  "EphemeralStorage",
  "FileSystemConfigs",
  "FunctionName",
  "Handler",
  "KmsKeyArn",
  "Layers",
  "LoggingConfig",
  "MemorySize",
  "RecursiveLoop",
  "ReservedConcurrentExecutions",
  "Role",
  "Runtime",
  "RuntimeManagementConfig",
  "SnapStart",
  "Timeout",
  "VpcConfig",
];
/** SAM-only properties this expansion understands (they produce no Lambda property of the same name). */
const SAM_HANDLED = ["CodeUri", "Events", "DeadLetterQueue", "EventInvokeConfig"];
/** EventBridgeRule event properties → the rule's own (Pattern) or its target's. */
const EVENTBRIDGE_RULE_EVENT = ["Pattern", "DeadLetterConfig", "RetryPolicy", "State"];

const HTTP_API_EVENT = ["ApiId", "Method", "Path", "PayloadFormatVersion", "TimeoutInMillis"];
const SCHEDULE_EVENT = ["Schedule", "State", "Enabled", "Input", "Description", "Name"];
const SQS_EVENT_TO_ESM: Record<string, string> = {
  Queue: "EventSourceArn",
  BatchSize: "BatchSize",
  Enabled: "Enabled",
  FilterCriteria: "FilterCriteria",
  FunctionResponseTypes: "FunctionResponseTypes",
  MaximumBatchingWindowInSeconds: "MaximumBatchingWindowInSeconds",
  ScalingConfig: "ScalingConfig",
  MetricsConfig: "MetricsConfig",
  KmsKeyArn: "KmsKeyArn",
};

function mergeGlobals(globals: Props, own: Props): Props {
  const merged: Props = { ...globals, ...own };
  const gEnv = (globals.Environment as { Variables?: Props } | undefined)?.Variables;
  const oEnv = (own.Environment as { Variables?: Props } | undefined)?.Variables;
  if (gEnv || oEnv) merged.Environment = { Variables: { ...gEnv, ...oEnv } };
  return merged;
}

/** SAM resolves Refs to parameters inside an HttpApi's CorsConfiguration before it writes the API. */
function resolveParameterRefs(value: Json, parameters: Record<string, unknown>): Json {
  if (Array.isArray(value)) return value.map((v) => resolveParameterRefs(v, parameters));
  if (value && typeof value === "object") {
    const o = value as Props;
    if (Object.keys(o).length === 1 && typeof o.Ref === "string" && o.Ref in parameters) return parameters[o.Ref];
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveParameterRefs(v, parameters)]));
  }
  return value;
}

const pathForArn = (path: string) => path.replace(/\{[^}]+\}/g, "*");

export function expandSam(template: Template): Template & Record<string, Json> {
  const globals = (template.Globals?.Function ?? {}) as Props;
  const parameters = parameterDefaults(template);
  const out: Record<string, { Type: string; Condition?: string; Properties?: Props; DependsOn?: Json }> = {};
  const apis = new Set<string>();

  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === "AWS::Serverless::HttpApi") {
      const p = r.Properties ?? {};
      const unknown = Object.keys(p).filter((k) => k !== "CorsConfiguration" && k !== "AccessLogSettings");
      if (unknown.length)
        throw new Error(`${id}: the expansion does not handle HttpApi properties ${unknown.join(", ")}`);
      out[id] = {
        Type: "AWS::ApiGatewayV2::Api",
        Properties: {
          Name: { Ref: "AWS::StackName" },
          ProtocolType: "HTTP",
          ...(p.CorsConfiguration ? { CorsConfiguration: resolveParameterRefs(p.CorsConfiguration, parameters) } : {}),
        },
      };
      out[`${id}ApiGatewayDefaultStage`] = {
        Type: "AWS::ApiGatewayV2::Stage",
        Properties: {
          ApiId: { Ref: id },
          StageName: "$default",
          AutoDeploy: true,
          ...(p.AccessLogSettings ? { AccessLogSettings: p.AccessLogSettings } : {}),
        },
      };
      apis.add(id);
    } else if (!r.Type.startsWith("AWS::Serverless::")) {
      out[id] = r as (typeof out)[string];
    }
  }

  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== "AWS::Serverless::Function") {
      if (r.Type.startsWith("AWS::Serverless::") && r.Type !== "AWS::Serverless::HttpApi")
        throw new Error(`${id}: ${r.Type} is not handled`);
      continue;
    }
    const p = mergeGlobals(globals, r.Properties ?? {});
    const unknown = Object.keys(p).filter((k) => !LAMBDA_PASS_THROUGH.includes(k) && !SAM_HANDLED.includes(k));
    if (unknown.length)
      throw new Error(`${id}: the expansion does not handle function properties ${unknown.join(", ")}`);
    if (!p.Role) throw new Error(`${id}: without Role SAM would generate one; this expansion expects a Role`);
    const lambda: Props = { Code: { S3Bucket: "sam-cli-managed-artifacts", S3Key: `${id}.zip` } };
    for (const k of LAMBDA_PASS_THROUGH) if (k in p) lambda[k] = p[k];
    if (p.DeadLetterQueue) {
      const dlq = p.DeadLetterQueue as Props;
      if (dlq.Type !== "SQS" && dlq.Type !== "SNS") throw new Error(`${id}: DeadLetterQueue.Type must be SQS or SNS`);
      lambda.DeadLetterConfig = { TargetArn: dlq.TargetArn };
    }
    out[id] = { Type: "AWS::Lambda::Function", ...(r.Condition ? { Condition: r.Condition } : {}), Properties: lambda };
    if (p.EventInvokeConfig) {
      const bad = Object.keys(p.EventInvokeConfig as Props).filter(
        (k) => !["MaximumEventAgeInSeconds", "MaximumRetryAttempts"].includes(k),
      );
      if (bad.length)
        throw new Error(`${id}: the expansion does not handle EventInvokeConfig properties ${bad.join(", ")}`);
      out[`${id}EventInvokeConfig`] = {
        Type: "AWS::Lambda::EventInvokeConfig",
        Properties: { FunctionName: { Ref: id }, Qualifier: "$LATEST", ...(p.EventInvokeConfig as Props) },
      };
    }

    for (const [eventId, event] of Object.entries(
      (p.Events ?? {}) as Record<string, { Type: string; Properties: Props }>,
    )) {
      const ep = event.Properties ?? {};
      if (event.Type === "HttpApi") {
        const bad = Object.keys(ep).filter((k) => !HTTP_API_EVENT.includes(k));
        if (bad.length)
          throw new Error(`${id}.${eventId}: the expansion does not handle HttpApi event properties ${bad.join(", ")}`);
        const api = (ep.ApiId as { Ref?: string } | undefined)?.Ref;
        if (!api || !apis.has(api))
          throw new Error(`${id}.${eventId}: ApiId must be a Ref to an AWS::Serverless::HttpApi of this template`);
        const method = String(ep.Method).toUpperCase();
        const path = String(ep.Path);
        out[`${id}${eventId}Permission`] = {
          Type: "AWS::Lambda::Permission",
          Properties: {
            Action: "lambda:InvokeFunction",
            FunctionName: { Ref: id },
            Principal: "apigateway.amazonaws.com",
            SourceArn: {
              "Fn::Sub": [
                `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${__ApiId__}/*/${method}${pathForArn(path)}`,
                { __ApiId__: { Ref: api } },
              ],
            },
          },
        };
        out[`${id}${eventId}Integration`] = {
          Type: "AWS::ApiGatewayV2::Integration",
          Properties: {
            ApiId: { Ref: api },
            IntegrationType: "AWS_PROXY",
            IntegrationUri: { "Fn::GetAtt": [id, "Arn"] },
            PayloadFormatVersion: String(ep.PayloadFormatVersion ?? "2.0"),
            ...(ep.TimeoutInMillis !== undefined ? { TimeoutInMillis: ep.TimeoutInMillis } : {}),
          },
        };
        out[`${id}${eventId}Route`] = {
          Type: "AWS::ApiGatewayV2::Route",
          Properties: {
            ApiId: { Ref: api },
            RouteKey: `${method} ${path}`,
            Target: { "Fn::Sub": `integrations/\${${id}${eventId}Integration}` },
          },
        };
      } else if (event.Type === "SQS") {
        const esm: Props = { FunctionName: { Ref: id } };
        for (const [k, v] of Object.entries(ep)) {
          const target = SQS_EVENT_TO_ESM[k];
          if (!target) throw new Error(`${id}.${eventId}: the expansion does not handle SQS event property ${k}`);
          esm[target] = v;
        }
        out[`${id}${eventId}`] = { Type: "AWS::Lambda::EventSourceMapping", Properties: esm };
      } else if (event.Type === "Schedule") {
        const bad = Object.keys(ep).filter((k) => !SCHEDULE_EVENT.includes(k));
        if (bad.length)
          throw new Error(
            `${id}.${eventId}: the expansion does not handle Schedule event properties ${bad.join(", ")}`,
          );
        out[`${id}${eventId}`] = {
          Type: "AWS::Events::Rule",
          Properties: {
            ScheduleExpression: ep.Schedule,
            State: ep.State ?? (ep.Enabled === false ? "DISABLED" : "ENABLED"),
            ...(ep.Description !== undefined ? { Description: ep.Description } : {}),
            ...(ep.Name !== undefined ? { Name: ep.Name } : {}),
            Targets: [
              {
                Arn: { "Fn::GetAtt": [id, "Arn"] },
                Id: `${id}${eventId}LambdaTarget`,
                ...(ep.Input !== undefined ? { Input: ep.Input } : {}),
              },
            ],
          },
        };
        out[`${id}${eventId}Permission`] = {
          Type: "AWS::Lambda::Permission",
          Properties: {
            Action: "lambda:InvokeFunction",
            FunctionName: { Ref: id },
            Principal: "events.amazonaws.com",
            SourceArn: { "Fn::GetAtt": [`${id}${eventId}`, "Arn"] },
          },
        };
      } else if (event.Type === "EventBridgeRule") {
        const bad = Object.keys(ep).filter((k) => !EVENTBRIDGE_RULE_EVENT.includes(k));
        if (bad.length)
          throw new Error(
            `${id}.${eventId}: the expansion does not handle EventBridgeRule event properties ${bad.join(", ")}`,
          );
        out[`${id}${eventId}`] = {
          Type: "AWS::Events::Rule",
          Properties: {
            EventPattern: ep.Pattern,
            State: ep.State ?? "ENABLED",
            Targets: [
              {
                Arn: { "Fn::GetAtt": [id, "Arn"] },
                Id: `${id}${eventId}LambdaTarget`,
                ...(ep.DeadLetterConfig ? { DeadLetterConfig: ep.DeadLetterConfig } : {}),
                ...(ep.RetryPolicy ? { RetryPolicy: ep.RetryPolicy } : {}),
              },
            ],
          },
        };
        out[`${id}${eventId}Permission`] = {
          Type: "AWS::Lambda::Permission",
          Properties: {
            Action: "lambda:InvokeFunction",
            FunctionName: { Ref: id },
            Principal: "events.amazonaws.com",
            SourceArn: { "Fn::GetAtt": [`${id}${eventId}`, "Arn"] },
          },
        };
      } else {
        throw new Error(`${id}.${eventId}: event type ${event.Type} is not handled`);
      }
    }
  }

  const { Transform: _t, Globals: _g, ...rest } = template;
  return { ...rest, Resources: out } as Template & Record<string, Json>;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(expandSam(loadTemplate()), null, 2));
}
