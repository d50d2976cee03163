// The offline stack: the template's functions behind a local HTTP API, with DynamoDB Local, the IVS emulator,
// the local identity, the queue stand-in and the event bus stand-in (the IVS emulator's EventBridge events reach
// the functions the template subscribes with EventBridgeRule event sources). Only the environment differs from AWS: endpoints and JWKS location.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { rotateSigningKey } from "../shared/keys/rotate.ts";
import { webhookKeys } from "../shared/webhooks/sign.ts";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { buildAll, buildRoot, type BuiltFunction } from "./build.ts";
import { createHttpApi, resolvedCors, type HttpApiOptions, type RouteBinding } from "./http-api.ts";
import { answerCognito, createLocalIdentity, USERNAME_PATTERN, type LocalIdentity } from "./identity.ts";
import { checkJava, createTableFromTemplate, deleteTable, startDynamoDb, type LocalDynamoDb } from "./dynamodb.ts";
import { MetricCounter, parseEmf, type EmfDocument } from "./emf.ts";
import { startEventBus, type LocalEventBus } from "./event-bus.ts";
import type { EventPattern } from "./event-pattern.ts";
import { startIvsEmulator, type IvsEmulator } from "./ivs/index.ts";
import { createConsoleServer } from "./console/server.ts";
import { startQueueServer, type LocalQueue, type QueueServer } from "./queue.ts";
import {
  generateSecretString,
  startSecretsManager,
  type GenerateSecretStringSpec,
  type LocalSecrets,
} from "./secrets.ts";
import { DEFAULT_MAX_SANDBOXES, startFunction, type LocalFunction, type RuntimeOptions } from "./runtime.ts";
import {
  functionsOf,
  httpApiCorsOf,
  loadTemplate,
  parameterDefaults,
  rateMs,
  resolveIntrinsics,
  tableOf,
  type ResolveContext,
  type Template,
} from "./template.ts";

export interface StackOptions {
  /** HTTP API port; 0 picks a free one. Default 3000. */
  port?: number;
  /** The environment the stack was started with: overrides template parameters' function variables. */
  env?: Record<string, string | undefined>;
  region?: string;
  accountId?: string;
  /** Log level for the functions (POWERTOOLS_LOG_LEVEL). */
  logLevel?: string;
  /** Start the IVS emulator with IVS's published API rates enforced. */
  enforceIvsRates?: boolean;
  /** Stages the IVS emulator allows before ServiceQuotaExceededException (default: the emulator's, IVS's 100). */
  ivsMaxStages?: number;
  /** The HTTP API's access log (one entry per request), as API Gateway's in AWS. */
  accessLog?: HttpApiOptions["accessLog"];
  template?: Template;
  /**
   * Each function's sandboxes: `max` bounds those of a function without ReservedConcurrentExecutions (default:
   * LOCAL_MAX_SANDBOXES from `env`, else 10); `idleMs` is how long an idle one lives before it retires (60 s).
   */
  sandboxes?: { max?: number; idleMs?: number };
  /** API Gateway's integration timeout: how long the HTTP API waits for a function (30 s). */
  integrationTimeoutMs?: number;
  /**
   * Every line the functions write (logs, and their metrics as EMF documents), in place of the stack's default: each
   * line on the process's stdout or stderr, except metric documents, printed only when the function's log level
   * (POWERTOOLS_LOG_LEVEL) is DEBUG. Either way the stack counts the metrics (`metrics`, `GET /dev/metrics`).
   */
  functionOutput?: (output: FunctionOutput) => void;
  /**
   * A DynamoDB Local that is already running (its endpoint), for the stack's table, in place of a JVM of the stack's
   * own: stacks side by side share one JVM, each with its own `tableName`. The stack deletes its table as it closes.
   */
  dynamoDbLocal?: string;
  /** The table's name (default "stagepass-local"). */
  tableName?: string;
  /**
   * The functions, already built from `template` (local/build.ts `buildAll`), in place of a build of the stack's own:
   * stacks that run the same code share one build. The stack leaves them where they are when it closes.
   */
  built?: BuiltFunction[];
}

export interface FunctionOutput {
  /** The function's logical id. */
  functionName: string;
  stream: "stdout" | "stderr";
  line: string;
  /** The line as an EMF document, when it is one. */
  emf: EmfDocument | undefined;
}

export interface DevInfo {
  region: string;
  userPoolId: string;
  clientId: string;
  ivsEndpoint: string;
  dynamodbEndpoint: string;
  tableName: string;
  jwksUri: string;
  apiUrl: string;
  queueEndpoint: string;
  /** The event bus stand-in: `GET <endpoint>/events` shows its rules and deliveries; the IVS emulator posts there. */
  eventBusEndpoint: string;
  /** The disconnect queue's URL in the queue stand-in (for env.json: kicks that queue work under sam local). */
  disconnectQueueUrl: string | undefined;
  /** The local user pool's Cognito API (ListUsers, AdminListGroupsForUser), as far as stagepass calls it. */
  cognitoEndpoint: string;
  /** The local Secrets Manager, and the secret that holds the token signing key. */
  secretsManagerEndpoint: string;
  signingKeySecretId: string | undefined;
  /** Where webhooks go (WEBHOOK_URL); undefined when they are off. */
  webhookUrl: string | undefined;
  /** The key receivers verify webhooks with, `whsec_...` (generated at start, as CloudFormation generates it at deploy). */
  webhookSecret: string | undefined;
  webhookSecretId: string | undefined;
  /** The webhook delivery queue in the queue stand-in. */
  webhookQueueUrl: string | undefined;
  corsOrigins: string[];
}

export interface Stack {
  url: string;
  info: DevInfo;
  identity: LocalIdentity;
  ivs: IvsEmulator;
  dynamodb: LocalDynamoDb;
  queues: QueueServer;
  /** The default event bus: EventBridgeRule event sources of template.yaml, fed by the IVS emulator. */
  eventBus: LocalEventBus;
  /** The local Secrets Manager (the signing-key and webhook secrets live there). */
  secrets: LocalSecrets;
  /** Schedule event sources of template.yaml: each enabled one runs on its rate; `run` invokes one now. */
  schedules: LocalSchedules;
  functions: Map<string, LocalFunction>;
  built: BuiltFunction[];
  /** How many times the functions have fetched the user pool's JWKS since the stack started. */
  jwksRequests(): number;
  /** Environment each function runs with, by logical id. */
  environments: Map<string, Record<string, string>>;
  /** The metrics the functions have written since the stack started (also at `GET /dev/metrics`). */
  metrics: MetricCounter;
  close(): Promise<void>;
}

export interface LocalSchedules {
  list(): Array<{ name: string; schedule: string; enabled: boolean }>;
  /** Invokes the schedule's function now, as EventBridge does (asynchronously, with a Scheduled Event); its result. */
  run(name: string): Promise<unknown>;
}

export const LOCAL_TABLE_NAME = "stagepass-local";

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // No Java, no DynamoDB Local: said before anything starts or builds (JavaMissingError).
  checkJava();
  const env = options.env ?? process.env;
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const template = options.template ?? loadTemplate();
  const maxSandboxes = options.sandboxes?.max ?? sandboxBoundFrom(env.LOCAL_MAX_SANDBOXES);
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };

  const tableName = options.tableName ?? LOCAL_TABLE_NAME;
  const buildDir = join(buildRoot, `stack-${process.pid}-${Date.now().toString(36)}`);
  if (!options.built) cleanups.push(() => rm(buildDir, { recursive: true, force: true }));
  try {
    const userPool = Object.values(template.Resources).find((r) => r.Type === "AWS::Cognito::UserPool");
    const usernames = userPool?.Properties?.UsernameConfiguration as { CaseSensitive?: unknown } | undefined;
    const identity = createLocalIdentity({ region, caseSensitiveUsernames: usernames?.CaseSensitive !== false });
    let jwksRequests = 0;
    // The local user pool: its JWKS, and the two Cognito operations the moderation function calls.
    const jwksServer = await listen(
      createServer((req, res) => {
        if (req.url === `/${identity.userPoolId}/.well-known/jwks.json`) {
          jwksRequests += 1;
          return json(res, 200, identity.jwks);
        }
        const target = String(req.headers["x-amz-target"] ?? "");
        if (req.method === "POST" && target) {
          void readBody(req).then((body) => {
            const answered = answerCognito(identity, target, body.toString("utf8"), (status, value) => {
              res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
              res.end(JSON.stringify(value));
            });
            if (!answered)
              json(res, 400, {
                __type: "UnknownOperationException",
                message: `${target} is not served by the local user pool`,
              });
          });
          return;
        }
        json(res, 404, { message: "Not Found" });
      }),
      0,
    );
    cleanups.push(() => closeServer(jwksServer.server));
    const jwksUri = `${jwksServer.url}/${identity.userPoolId}/.well-known/jwks.json`;

    // A port in use fails the start now, not after DynamoDB Local and the builds (it is bound only at the end).
    if (options.port) await closeServer((await listen(createServer(), options.port)).server);

    // Started together; whichever part started is stopped again if another fails (Java missing, a build error).
    const parts = await Promise.allSettled([
      startIvsEmulator({
        port: 0,
        region,
        accountId,
        enforceRates: options.enforceIvsRates ?? false,
        ...(options.ivsMaxStages !== undefined ? { maxStages: options.ivsMaxStages } : {}),
      }),
      startDynamoDb({ region, ...(options.dynamoDbLocal ? { directEndpoint: options.dynamoDbLocal } : {}) }),
      startQueueServer({ region, accountId, delayScale: delayScaleFrom(env.QUEUE_DELAY_SCALE) }),
      startEventBus(),
      // Each stack builds into its own folder, so that stacks side by side never read a half-written bundle.
      options.built ?? buildAll(template, buildDir),
    ] as const);
    const [ivsPart, dynamodbPart, queuesPart, busPart, builtPart] = parts;
    for (const part of [ivsPart, dynamodbPart, queuesPart, busPart]) {
      if (part.status === "fulfilled") cleanups.push(() => part.value.close());
    }
    const failed = parts.find((p) => p.status === "rejected");
    if (failed) throw failed.reason;
    const value = <T>(part: PromiseSettledResult<T>): T => (part as PromiseFulfilledResult<T>).value;
    const [ivs, dynamodb, queues, eventBus, built] = [
      value(ivsPart),
      value(dynamodbPart),
      value(queuesPart),
      value(busPart),
      value(builtPart),
    ];
    // IVS sends its events to the account's default bus.
    ivs.setEventBusUrl(eventBus.eventsUrl);

    const table = tableOf(template);
    await createTableFromTemplate(dynamodb.directEndpoint, region, tableName, table.properties);
    // A shared DynamoDB Local keeps running: the table goes (before the proxy closes, cleanups run last first).
    if (options.dynamoDbLocal) cleanups.push(() => deleteTable(dynamodb.directEndpoint, region, tableName));

    // Queues the template declares, with their redrive settings.
    const resources: Record<string, string> = { [table.logicalId]: tableName };
    const attributes: Record<string, string> = {};
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type === "AWS::SQS::Queue") {
        const redrive = resource.Properties?.RedrivePolicy as { maxReceiveCount?: number } | undefined;
        const queue = queues.createQueue(logicalId, { maxReceiveCount: Number(redrive?.maxReceiveCount ?? 1_000_000) });
        resources[logicalId] = queue.url;
        attributes[`${logicalId}.Arn`] = queue.arn;
        attributes[`${logicalId}.QueueUrl`] = queue.url;
      }
      if (resource.Type === "AWS::Cognito::UserPool") resources[logicalId] = identity.userPoolId;
      if (resource.Type === "AWS::Cognito::UserPoolClient") resources[logicalId] = identity.clientId;
      if (resource.Type === "AWS::Cognito::UserPoolGroup") resources[logicalId] = "local-group";
    }

    // Parameters: the template's defaults; the offline stack runs with ADMIN_GROUP=admin, any creator, id tokens.
    const parameters: Record<string, unknown> = {
      ...parameterDefaults(template),
      AdminGroup: "admin",
      RoomCreatorGroups: "",
      TokenUse: "id",
    };
    // A function variable set from the environment (TOKEN_MODE=self-signed npm start) also sets the parameter it
    // is declared from, so that the template's Conditions follow it, as they would in a deployment.
    for (const fn of functionsOf(template)) {
      for (const [name, declared] of Object.entries(fn.environment)) {
        const param = (declared as { Ref?: string } | null)?.Ref;
        if (param && param in parameters && env[name] !== undefined) parameters[param] = env[name];
      }
    }
    if (options.logLevel) parameters.LogLevel = options.logLevel;
    const corsOrigins = (env.CORS_ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (corsOrigins.length) parameters.CorsAllowedOrigins = corsOrigins;
    const ctx: ResolveContext = {
      parameters,
      resources,
      attributes,
      pseudo: {
        "AWS::Region": region,
        "AWS::AccountId": accountId,
        "AWS::Partition": "aws",
        "AWS::StackName": "stagepass-local",
        "AWS::URLSuffix": "amazonaws.com",
      },
      conditions: template.Conditions ?? {},
    };

    const holds = (logicalId: string) => {
      const condition = template.Resources[logicalId]?.Condition;
      return condition === undefined || Boolean(resolveIntrinsics({ Condition: condition }, ctx));
    };

    // Secrets the template declares, in the local Secrets Manager; then the signing key, as the SigningKey custom
    // resource makes it in AWS (the same rotation code), when TokenMode is self-signed.
    const secrets = await startSecretsManager({ region, accountId });
    cleanups.push(() => secrets.close());
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== "AWS::SecretsManager::Secret" || !holds(logicalId)) continue;
      const generate = resolveIntrinsics(resource.Properties?.GenerateSecretString, ctx) as
        GenerateSecretStringSpec | undefined;
      const value = generate
        ? generateSecretString(generate)
        : resolveIntrinsics(resource.Properties?.SecretString, ctx);
      resources[logicalId] = secrets.create(
        `stagepass-local-${logicalId}`,
        typeof value === "string" ? value : undefined,
      );
    }
    const localClients = { region, credentials: { accessKeyId: "local", secretAccessKey: "local" } };
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== "Custom::SigningKey" || !holds(logicalId)) continue;
      const secretId = String(resolveIntrinsics(resource.Properties?.SecretId, ctx));
      const ivsClient = new IVSRealTimeClient({ ...localClients, endpoint: ivs.url });
      const secretsClient = new SecretsManagerClient({ ...localClients, endpoint: secrets.endpoint });
      await rotateSigningKey({ ivs: ivsClient, secrets: secretsClient, secretId, now: Date.now });
      ivsClient.destroy();
      secretsClient.destroy();
    }

    const functions = new Map<string, LocalFunction>();
    const environments = new Map<string, Record<string, string>>();
    const metrics = new MetricCounter();
    const endpoints = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_EC2_METADATA_DISABLED: "true",
      // As Lambda sets it for containers started on demand (Powertools counts their cold starts).
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_IVS_REALTIME: ivs.url,
      AWS_ENDPOINT_URL_SQS: queues.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: jwksServer.url,
      JWKS_URI: jwksUri,
    };
    await Promise.all(
      built.map(async (fn) => {
        const declared = resolveIntrinsics(fn.definition.environment, ctx) as Record<string, unknown>;
        const fnEnv: Record<string, string> = {
          ...endpoints,
          AWS_LAMBDA_FUNCTION_NAME: fn.definition.logicalId,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.definition.memorySize),
        };
        for (const [name, value] of Object.entries(declared)) {
          // As with `sam local --env-vars`: a declared variable can be overridden from the stack's environment.
          fnEnv[name] = env[name] ?? String(value);
        }
        fnEnv.NODE_OPTIONS = "";
        environments.set(fn.definition.logicalId, fnEnv);
        const functionName = fn.definition.logicalId;
        const output = (stream: "stdout" | "stderr", line: string) => {
          const emf = parseEmf(line);
          if (emf) metrics.add(emf);
          const entry = { functionName, stream, line, emf };
          if (options.functionOutput) options.functionOutput(entry);
          else if (printed(entry, fnEnv.POWERTOOLS_LOG_LEVEL))
            (stream === "stdout" ? process.stdout : process.stderr).write(`${line}\n`);
        };
        const runtimeOptions: RuntimeOptions = {
          maxSandboxes,
          output,
          ...(options.sandboxes?.idleMs !== undefined ? { idleMs: options.sandboxes.idleMs } : {}),
        };
        const reserved = reservedConcurrencyOf(fn, ctx);
        if (reserved !== undefined) runtimeOptions.reservedConcurrency = reserved;
        const runtime = await startFunction(fn, fnEnv, runtimeOptions);
        functions.set(fn.definition.logicalId, runtime);
        cleanups.push(() => runtime.close());
      }),
    );
    for (const fn of built) {
      for (const q of fn.definition.queues)
        queues.attach(q.queueLogicalId, functions.get(fn.definition.logicalId)!, q.batchSize);
      for (const rule of fn.definition.eventRules ?? []) {
        eventBus.addRule({
          name: `${fn.definition.logicalId}.${rule.eventName}`,
          pattern: resolveIntrinsics(rule.pattern, ctx) as EventPattern,
          eventBusName: String(resolveIntrinsics(rule.eventBusName, ctx)),
          enabled: rule.enabled,
          target: functions.get(fn.definition.logicalId)!,
          maximumRetryAttempts: fn.definition.maximumRetryAttempts ?? 2,
          ...(rule.input !== undefined ? { input: rule.input } : {}),
          ...(rule.inputPath !== undefined ? { inputPath: rule.inputPath } : {}),
        });
      }
    }

    // Schedule event sources: a timer per enabled one (EventBridge's async invocation; a failure is logged).
    const schedules = new Map<string, { schedule: string; enabled: boolean; run(): Promise<unknown> }>();
    for (const fn of built) {
      for (const source of fn.definition.schedules ?? []) {
        const name = `${fn.definition.logicalId}.${source.eventName}`;
        const schedule = String(resolveIntrinsics(source.schedule, ctx));
        const enabled = resolveIntrinsics(source.state, ctx) === "ENABLED";
        const runtime = functions.get(fn.definition.logicalId)!;
        const run = () =>
          runtime.invoke(
            source.input !== undefined
              ? JSON.parse(source.input)
              : {
                  version: "0",
                  id: randomUUID(),
                  "detail-type": "Scheduled Event",
                  source: "aws.events",
                  account: accountId,
                  time: new Date().toISOString(),
                  region,
                  resources: [`arn:aws:events:${region}:${accountId}:rule/stagepass-local-${name}`],
                  detail: {},
                },
          );
        schedules.set(name, { schedule, enabled, run });
        const every = rateMs(schedule);
        if (!enabled || every === undefined) continue;
        const timer = setInterval(
          () => void run().catch((error: unknown) => console.error(`schedule ${name}:`, error)),
          every,
        );
        timer.unref();
        cleanups.push(async () => clearInterval(timer));
      }
    }

    const routes: RouteBinding[] = built.flatMap((fn) =>
      fn.definition.routes.map((r) => ({ ...r, runtime: functions.get(fn.definition.logicalId)! })),
    );
    const cors = httpApiCorsOf(template);
    const allowOrigins = resolveIntrinsics(cors?.allowOrigins, ctx) as string[];
    const api = createHttpApi({
      routes,
      cors: resolvedCors(cors, allowOrigins),
      accountId,
      ...(options.accessLog ? { accessLog: options.accessLog } : {}),
      ...(options.integrationTimeoutMs !== undefined ? { integrationTimeoutMs: options.integrationTimeoutMs } : {}),
    });

    const info: DevInfo = {
      region,
      userPoolId: identity.userPoolId,
      clientId: identity.clientId,
      ivsEndpoint: ivs.url,
      dynamodbEndpoint: dynamodb.endpoint,
      tableName,
      jwksUri,
      apiUrl: "",
      queueEndpoint: queues.endpoint,
      eventBusEndpoint: eventBus.endpoint,
      disconnectQueueUrl: queues.queues.get("DisconnectQueue")?.url,
      secretsManagerEndpoint: secrets.endpoint,
      cognitoEndpoint: jwksServer.url,
      signingKeySecretId: environments.get("TokenFunction")?.SIGNING_KEY_SECRET_ID || undefined,
      webhookUrl: environments.get("WebhookFunction")?.WEBHOOK_URL || undefined,
      webhookSecret: undefined,
      webhookSecretId: environments.get("WebhookFunction")?.WEBHOOK_SECRET_ID || undefined,
      webhookQueueUrl: queues.queues.get("WebhookQueue")?.url,
      corsOrigins: allowOrigins,
    };
    if (info.webhookSecretId) {
      const value = secrets.get(info.webhookSecretId);
      if (value) info.webhookSecret = webhookKeys(value)[0];
    }
    const webhookQueue = info.webhookUrl ? queues.queues.get("WebhookQueue") : undefined;

    // The web console (offline only): `/` and `/_console/`, which no route of the template uses.
    const webConsole = createConsoleServer({ ivsEndpoint: ivs.url });
    const server = createServer((req, res) => {
      readBody(req)
        .then(
          (body) => {
            const path = (req.url ?? "/").split("?")[0]!;
            if (path === "/dev/login" || path === "/dev/info" || path === "/dev/metrics")
              return devRoute(req, res, body, identity, info, api, metrics);
            // Offline only, and only while webhooks are on (else API Gateway's 404, as for any unknown route).
            if (path === "/dev/webhooks" && webhookQueue && req.method === "GET")
              return json(res, 200, webhookDeliveries(webhookQueue, info));
            if (webConsole.handles(req.method ?? "GET", path)) return webConsole.serve(req, res, body);
            return api(req, res, body);
          },
          () => json(res, 400, { message: "Bad Request" }),
        )
        .catch((error: unknown) => {
          console.error(error);
          if (!res.headersSent) json(res, 500, { message: "Internal Server Error" });
        });
    });
    server.keepAliveTimeout = 5_000;
    const listening = await listen(server, options.port ?? 3000);
    cleanups.push(() => closeServer(server));
    info.apiUrl = listening.url;

    const localSchedules: LocalSchedules = {
      list: () => [...schedules].map(([name, { schedule, enabled }]) => ({ name, schedule, enabled })),
      run: (name) => {
        const found = schedules.get(name);
        if (!found) throw new Error(`no schedule ${name}`);
        return found.run();
      },
    };
    return {
      url: listening.url,
      info,
      identity,
      ivs,
      dynamodb,
      queues,
      eventBus,
      secrets,
      schedules: localSchedules,
      functions,
      built,
      environments,
      metrics,
      jwksRequests: () => jwksRequests,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Whether the stack prints a function's line by default: every log line (the function's logger has already applied
 * its level), a metric document only when the function logs at DEBUG (or TRACE): one per metric and dimension
 * values per request would drown the rest.
 */
export function printed(output: Pick<FunctionOutput, "emf">, logLevel: string | undefined): boolean {
  return !output.emf || /^(DEBUG|TRACE)$/i.test((logLevel ?? "").trim());
}

/** LOCAL_MAX_SANDBOXES: a positive integer, or unset for the default. */
function sandboxBoundFrom(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_MAX_SANDBOXES;
  const bound = Number(value);
  if (!Number.isInteger(bound) || bound < 1)
    throw new Error(`LOCAL_MAX_SANDBOXES must be a positive integer, not ${JSON.stringify(value)}`);
  return bound;
}

/** The function's ReservedConcurrentExecutions, resolved (it may be a Ref or an If), or undefined if it reserves none. */
function reservedConcurrencyOf(fn: BuiltFunction, ctx: ResolveContext): number | undefined {
  if (fn.definition.reservedConcurrency === undefined) return undefined;
  const value = resolveIntrinsics({ value: fn.definition.reservedConcurrency }, ctx) as { value?: unknown };
  if (value.value === undefined) return undefined;
  const reserved = Number(value.value);
  if (!Number.isInteger(reserved) || reserved < 0) {
    throw new Error(
      `${fn.definition.logicalId}: ReservedConcurrentExecutions must be an integer ≥ 0, not ${JSON.stringify(value.value)}`,
    );
  }
  return reserved;
}

function devRoute(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  identity: LocalIdentity,
  info: DevInfo,
  api: ReturnType<typeof createHttpApi>,
  metrics: MetricCounter,
) {
  const path = (req.url ?? "/").split("?")[0];
  const cors: Record<string, string> = info.corsOrigins.includes(String(req.headers.origin))
    ? { "access-control-allow-origin": String(req.headers.origin), vary: "origin" }
    : {};
  if (req.method === "OPTIONS") return api(req, res, body);
  if (path === "/dev/info") {
    if (req.method !== "GET") return json(res, 405, { message: "Method Not Allowed" }, cors);
    const { apiUrl: _apiUrl, corsOrigins: _c, ...published } = info;
    return json(res, 200, { ...published, apiUrl: info.apiUrl, endpoints: devEndpoints(info) }, cors);
  }
  if (path === "/dev/metrics") {
    // What CloudWatch would hold from the functions' EMF documents: per metric and dimension values.
    if (req.method !== "GET") return json(res, 405, { message: "Method Not Allowed" }, cors);
    return json(res, 200, { metrics: metrics.counts() }, cors);
  }
  if (req.method !== "POST") return json(res, 405, { message: "Method Not Allowed" }, cors);
  let input: unknown;
  try {
    input = JSON.parse(body.toString("utf8"));
  } catch {
    return json(res, 400, { message: 'the body must be JSON: {"username": "alice"}' }, cors);
  }
  const problems: string[] = [];
  const o = (typeof input === "object" && input !== null && !Array.isArray(input) ? input : {}) as Record<
    string,
    unknown
  >;
  if (typeof o.username !== "string" || !USERNAME_PATTERN.test(o.username))
    problems.push("username must match ^[a-zA-Z0-9._-]{1,64}$");
  if (
    o.groups !== undefined &&
    (!Array.isArray(o.groups) ||
      o.groups.some((g) => typeof g !== "string" || g.length < 1 || g.length > 128) ||
      o.groups.length > 100)
  ) {
    problems.push("groups must be an array of 1..128-character strings");
  }
  if (
    o.preferredUsername !== undefined &&
    (typeof o.preferredUsername !== "string" || o.preferredUsername.length < 1 || o.preferredUsername.length > 128)
  ) {
    problems.push("preferredUsername must be a 1..128-character string");
  }
  const unknown = Object.keys(o).filter((k) => !["username", "groups", "preferredUsername"].includes(k));
  if (unknown.length) problems.push(`unknown fields: ${unknown.join(", ")}`);
  if (problems.length) return json(res, 400, { message: problems.join("; ") }, cors);
  return json(
    res,
    200,
    identity.login({
      username: o.username as string,
      ...(o.groups ? { groups: o.groups as string[] } : {}),
      ...(o.preferredUsername ? { preferredUsername: o.preferredUsername as string } : {}),
    }),
    cors,
  );
}

/**
 * GET /dev/webhooks: the webhook queue's recent messages, newest first, as deliveries: the event (id, type,
 * timestamp, data), its status (queued, sending, retrying, delivered, dead-lettered) and how many attempts it had.
 */
export function webhookDeliveries(queue: LocalQueue, info: DevInfo) {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const deliveries = queue.history().map((m) => {
    let event: { id?: string; type?: string; timestamp?: string; data?: unknown } = {};
    try {
      event = JSON.parse(m.body) as typeof event;
    } catch {
      /* shown without its event */
    }
    const status =
      m.state === "waiting"
        ? m.receiveCount === 0
          ? "queued"
          : "retrying"
        : m.state === "in-flight"
          ? "sending"
          : m.state;
    return {
      id: event.id,
      type: event.type,
      timestamp: event.timestamp,
      status,
      attempts: m.receiveCount,
      queuedAt: iso(m.sentAt),
      lastAttemptAt: iso(m.lastReceivedAt),
      nextAttemptAt: iso(m.visibleAt),
      data: event.data,
    };
  });
  return { url: info.webhookUrl, deliveries };
}

/** QUEUE_DELAY_SCALE: a positive number (1, the default: retry waits as long as in SQS). */
function delayScaleFrom(value: string | undefined): number {
  if (value === undefined || value === "") return 1;
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`QUEUE_DELAY_SCALE must be a positive number, not ${JSON.stringify(value)}`);
  return scale;
}

export function devEndpoints(info: DevInfo): Record<string, string> {
  return {
    api: info.apiUrl,
    console: `${info.apiUrl}/`,
    login: `POST ${info.apiUrl}/dev/login`,
    info: `GET ${info.apiUrl}/dev/info`,
    metrics: `GET ${info.apiUrl}/dev/metrics`,
    webhooks: `GET ${info.apiUrl}/dev/webhooks`,
    health: `GET ${info.apiUrl}/health`,
    ivs: info.ivsEndpoint,
    ivsJoin: `POST ${info.ivsEndpoint}/_emulator/join`,
    eventBus: `GET ${info.eventBusEndpoint}/events`,
    dynamodb: info.dynamodbEndpoint,
    jwks: info.jwksUri,
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      // Past API Gateway's limit we stop buffering; the API answers 413 from the size alone.
      if (size <= 10 * 1024 * 1024 + 1) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function listen(server: Server, port: number): Promise<{ server: Server; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
