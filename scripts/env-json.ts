// env.json for `sam local invoke --env-vars env.json` (and `sam local start-api`): points each function at the
// offline stack's services. The ports of DynamoDB Local, the IVS emulator and the JWKS are picked at every
// `npm start` and published at GET /dev/info, so env.json is not committed: write it after starting the stack:
//
//   npx tsx scripts/env-json.ts                        # from http://127.0.0.1:3000 (API=... for another port)
//   npx tsx scripts/env-json.ts --host 127.0.0.1       # for `sam local ... --docker-network host` on Linux
//
// sam local runs each function in Docker, so the URLs name host.docker.internal (the host, as Docker Desktop
// resolves it; on Linux add `--add-host host.docker.internal:host-gateway` or use the host network). SAM sets only
// the variables a function declares in template.yaml, so env.json sets only those.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  functionsOf,
  loadTemplate,
  parameterDefaults,
  resolveIntrinsics,
  type FunctionDefinition,
  type Template,
} from "../local/template.ts";
import type { DevInfo as StackDevInfo } from "../local/stack.ts";

/** What GET /dev/info publishes (local/stack.ts), as far as env.json needs it. */
export type DevInfo = Omit<StackDevInfo, "apiUrl" | "corsOrigins">;

export type EnvJson = Record<string, Record<string, string>>;

/** The same URL, with the host sam local's containers reach the offline stack by. */
export const onHost = (url: string, host: string) => url.replace(/^(https?:\/\/)[^:/]+/, `$1${host}`);

/** Each variable env.json can set, from /dev/info. */
const FROM_INFO: Record<string, (info: DevInfo, host: string) => string | undefined> = {
  TABLE_NAME: (i) => i.tableName,
  USER_POOL_ID: (i) => i.userPoolId,
  USER_POOL_CLIENT_IDS: (i) => i.clientId,
  JWKS_URI: (i, h) => onHost(i.jwksUri, h),
  AWS_ENDPOINT_URL_DYNAMODB: (i, h) => onHost(i.dynamodbEndpoint, h),
  AWS_ENDPOINT_URL_IVS_REALTIME: (i, h) => onHost(i.ivsEndpoint, h),
  AWS_ENDPOINT_URL_SQS: (i, h) => (i.queueEndpoint ? onHost(i.queueEndpoint, h) : undefined),
  DISCONNECT_QUEUE_URL: (i, h) => (i.disconnectQueueUrl ? onHost(i.disconnectQueueUrl, h) : undefined),
  AWS_ENDPOINT_URL_SECRETS_MANAGER: (i, h) =>
    i.secretsManagerEndpoint ? onHost(i.secretsManagerEndpoint, h) : undefined,
  SIGNING_KEY_SECRET_ID: (i) => i.signingKeySecretId,
  WEBHOOK_URL: (i, h) => (i.webhookUrl ? onHost(i.webhookUrl, h) : undefined),
  WEBHOOK_SECRET_ID: (i) => i.webhookSecretId,
  // Only while the stack sends webhooks: an empty WEBHOOK_QUEUE_URL is what keeps the functions from queueing events.
  WEBHOOK_QUEUE_URL: (i, h) => (i.webhookUrl && i.webhookQueueUrl ? onHost(i.webhookQueueUrl, h) : undefined),
  AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: (i, h) => onHost(i.cognitoEndpoint, h),
};

export function envJsonFor(template: Template, info: DevInfo, host = "host.docker.internal"): EnvJson {
  const out: EnvJson = {};
  for (const fn of functionsOf(template)) {
    const vars: Record<string, string> = {};
    for (const name of Object.keys(fn.environment).sort()) {
      // A variable the template sets to "" on purpose (the webhook function's DISCONNECT_QUEUE_URL) stays so.
      if (fn.environment[name] === "") continue;
      const value = FROM_INFO[name]?.(info, host);
      if (value !== undefined) vars[name] = value;
    }
    if (Object.keys(vars).length) out[fn.logicalId] = vars;
  }
  return out;
}

/**
 * The environment `sam local invoke` gives a function (SAM CLI's EnvironmentVariables.resolve): its own AWS_*
 * variables, then every variable the template declares - its value from env.json (the function's section, or
 * "Parameters" for all), else the template's, resolved as SAM CLI resolves it: parameters to their defaults, a
 * resource Ref to the resource's logical id, AWS::NoValue (and anything unresolvable) to "". Undeclared names in
 * env.json are ignored, as SAM ignores them.
 */
export function samLocalEnvironment(
  fn: FunctionDefinition,
  template: Template,
  envJson: EnvJson,
): Record<string, string> {
  const overrides = { ...(envJson.Parameters ?? {}), ...(envJson[fn.logicalId] ?? {}) };
  const resources = Object.fromEntries(Object.keys(template.Resources).map((id) => [id, id]));
  const env: Record<string, string> = {
    AWS_SAM_LOCAL: "true",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "defaultkey",
    AWS_SECRET_ACCESS_KEY: "defaultsecret",
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutSeconds),
    AWS_LAMBDA_FUNCTION_HANDLER: fn.handler,
  };
  for (const [name, declared] of Object.entries(fn.environment)) {
    let value: unknown;
    if (JSON.stringify(declared) === JSON.stringify({ Ref: "AWS::NoValue" })) value = "";
    else {
      try {
        value = resolveIntrinsics(declared, {
          parameters: parameterDefaults(template),
          resources,
          pseudo: { "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012" },
          conditions: template.Conditions ?? {},
        });
      } catch {
        value = "";
      }
    }
    env[name] = name in overrides ? overrides[name]! : value === null || typeof value === "object" ? "" : String(value);
  }
  return env;
}

/** Where samconfig.toml has sam local read it. */
export const ENV_JSON = "env.json";

/** Reads the running stack's GET /dev/info and writes env.json (to `out`) for it. */
export async function writeEnvJson(opts: { api: string; host?: string; out?: string }): Promise<EnvJson> {
  const response = await fetch(`${opts.api}/dev/info`);
  if (!response.ok) throw new Error(`status ${response.status}`);
  const envJson = envJsonFor(loadTemplate(), (await response.json()) as DevInfo, opts.host);
  writeFileSync(opts.out ?? ENV_JSON, `${JSON.stringify(envJson, null, 2)}\n`);
  return envJson;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const api = arg("--api") ?? process.env.API ?? "http://127.0.0.1:3000";
  const host = arg("--host") ?? "host.docker.internal";
  const out = arg("--out") ?? ENV_JSON;
  try {
    await writeEnvJson({ api, host, out });
  } catch (error) {
    console.error(
      `cannot read ${api}/dev/info (${(error as Error).message}): start the offline stack with npm start first`,
    );
    process.exit(1);
  }
  console.log(`wrote ${out} for the offline stack at ${api} (services reached as ${host})`);
}
