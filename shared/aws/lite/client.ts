// The token function's AWS client: SigV4 + the HTTP/1.1 client in http1.ts, for the few JSON operations on the
// path of every viewer's join (DynamoDB BatchGetItem and TransactWriteItems, IVS CreateParticipantToken, Secrets
// Manager GetSecretValue). The other functions keep the AWS SDK; this one exists for cold starts and the warm cost
// (docs/performance.md: the SDK was 85% of the token bundle and ~0.5 ms of every request).
//
// What it shares with the SDK, so that both behave alike behind the same adapters:
// - configuration from the environment: AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
//   (what Lambda, `sam local` and the offline stack set), AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL;
// - errors: `name` is the service's error code, `$metadata.httpStatusCode` the status, and the error document's
//   other members (e.g. DynamoDB's CancellationReasons) are on the error; a request without a response has no
//   status (so callers treat it as transient, like the SDK's network errors);
// - retries (`maxAttempts`): network errors, 5xx and throttling, with full-jitter backoff, as the SDK's standard mode.
//
// Operations are called through one module each under ./commands/, which is how scripts/sdk-calls.ts sees which
// operations a bundle can send (and derives its IAM permissions).
import { ConfigError } from "../../config.ts";
import { createHttp1Client, type Http1Client, type Http1Response } from "./http1.ts";
import { createSigner, type Credentials, type PreparedRequest, type Signer } from "./sigv4.ts";

export interface ServiceDefinition {
  /** The suffix of AWS_ENDPOINT_URL_<id>, as the SDK names it. */
  envId: string;
  endpointPrefix: string;
  signingName: string;
}

export const DYNAMODB: ServiceDefinition = { envId: "DYNAMODB", endpointPrefix: "dynamodb", signingName: "dynamodb" };
export const IVS_REALTIME: ServiceDefinition = {
  envId: "IVS_REALTIME",
  endpointPrefix: "ivsrealtime",
  signingName: "ivs",
};
export const SECRETS_MANAGER: ServiceDefinition = {
  envId: "SECRETS_MANAGER",
  endpointPrefix: "secretsmanager",
  signingName: "secretsmanager",
};

/** An error answer from the service, shaped like the SDK's service exceptions. */
export class AwsServiceError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  readonly $fault: "client" | "server";
  [member: string]: unknown;

  constructor(
    name: string,
    message: string,
    status: number,
    requestId: string | undefined,
    members: Record<string, unknown>,
  ) {
    super(message);
    for (const [k, v] of Object.entries(members)) if (!(k in this)) this[k] = v;
    this.name = name;
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
    this.$fault = status >= 500 ? "server" : "client";
  }
}

const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "SlowDown",
]);

export const isThrottling = (error: unknown) =>
  error instanceof AwsServiceError && (error.$metadata.httpStatusCode === 429 || THROTTLING.has(error.name));
/** Worth another attempt: no response at all, a 5xx, or throttling. */
export const isRetryable = (error: unknown) =>
  !(error instanceof AwsServiceError) || error.$metadata.httpStatusCode >= 500 || isThrottling(error);

export interface LiteClientOptions {
  /** Attempts per call, the first included (the SDK's `maxAttempts`). */
  maxAttempts: number;
  /** Longest one attempt may wait for its response. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Told each call's operation (e.g. `BatchGetItem`) and time in ms, its retries included, answered or not. */
  onCall?: (operation: string, ms: number) => void;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** This call's limit for each attempt, in place of the client's `timeoutMs`. */
  timeoutMs?: number;
}

export interface LiteClient {
  /** awsJson 1.0/1.1: POST / with `X-Amz-Target`. */
  json(target: string, contentType: string, input: unknown, opts?: RequestOptions): Promise<unknown>;
  /** restJson1 POST of a JSON document to `path`. */
  restPost(path: string, input: unknown, opts?: RequestOptions): Promise<unknown>;
  /** Connects ahead of the first call (Http1Client.preconnect); never rejects. */
  preconnect(): Promise<void>;
  close(): void;
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new ConfigError(
      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda, sam local and npm start set them)",
    );
  }
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

export function endpointFor(service: ServiceDefinition, env: NodeJS.ProcessEnv): { region: string; endpoint: string } {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError("AWS_REGION must be set");
  const endpoint =
    env[`AWS_ENDPOINT_URL_${service.envId}`] ??
    env.AWS_ENDPOINT_URL ??
    `https://${service.endpointPrefix}.${region}.amazonaws.com`;
  return { region, endpoint };
}

export function createLiteClient(service: ServiceDefinition, options: LiteClientOptions): LiteClient {
  const env = options.env ?? process.env;
  const { region, endpoint } = endpointFor(service, env);
  const url = new URL(endpoint);
  const basePath = url.pathname.replace(/\/$/, "");
  const signer: Signer = createSigner(credentialsFromEnv(env), { region, service: service.signingName });
  const http: Http1Client = createHttp1Client(url.origin);

  // One prepared (pre-canonicalised) request per operation: json() per target, restPost() per path.
  const prepared = new Map<string, PreparedRequest>();
  const preparedFor = (key: string, path: string, headers: () => Record<string, string>) => {
    let p = prepared.get(key);
    if (!p) prepared.set(key, (p = signer.prepare({ method: "POST", host: url.host, path, headers: headers() })));
    return p;
  };

  const onCall = options.onCall;
  const send = async (
    path: string,
    request: PreparedRequest,
    input: unknown,
    opts: RequestOptions | undefined,
    operation: string,
  ) => {
    const signal = opts?.signal;
    const timeoutMs = opts?.timeoutMs ?? options.timeoutMs;
    const body = JSON.stringify(input ?? {});
    // The call's time for onCall, taken here rather than in a wrapper: no promise more per call.
    const started = onCall ? performance.now() : 0;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const signed = request.sign(body);
          const response = await http.request({
            method: "POST",
            path,
            headers: signed,
            body,
            timeoutMs,
            ...(signal ? { signal } : {}),
          });
          if (response.status >= 200 && response.status < 300)
            return response.body ? (JSON.parse(response.body) as unknown) : {};
          throw toServiceError(response);
        } catch (error) {
          if (attempt >= options.maxAttempts || !isRetryable(error) || signal?.aborted) throw error;
          // Full jitter, as the SDK's standard retry mode: longer after throttling.
          const base = isThrottling(error) ? 500 : 100;
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(20_000, base * 2 ** (attempt - 1))));
        }
      }
    } finally {
      onCall?.(operation, performance.now() - started);
    }
  };

  return {
    json: (target, contentType, input, opts) => {
      const path = `${basePath}/`;
      return send(
        path,
        preparedFor(`${contentType} ${target}`, path, () => ({ "content-type": contentType, "x-amz-target": target })),
        input,
        opts,
        target.slice(target.lastIndexOf(".") + 1),
      );
    },
    restPost: (path, input, opts) => {
      const full = `${basePath}${path}`;
      return send(
        full,
        preparedFor(full, full, () => ({ "content-type": "application/json" })),
        input,
        opts,
        path.slice(path.lastIndexOf("/") + 1),
      );
    },
    preconnect: () => http.preconnect(),
    close: () => http.close(),
  };
}

/** The SDK's reading of an error response: the code from `x-amzn-errortype`, `__type`, or `code`. */
export function toServiceError(response: Http1Response): AwsServiceError {
  let document: Record<string, unknown> = {};
  try {
    const parsed = response.body ? (JSON.parse(response.body) as unknown) : {};
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) document = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): the status alone decides.
  }
  const raw =
    response.headers["x-amzn-errortype"] ??
    (document.__type as string | undefined) ??
    (document.code as string | undefined) ??
    (document.Code as string | undefined) ??
    `Http${response.status}Error`;
  // "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "ValidationException:http://internal..."
  const name = String(raw).split(":")[0]!.split("#").pop()!;
  const { __type: _t, message, Message, ...members } = document;
  const text =
    typeof message === "string" ? message : typeof Message === "string" ? Message : `${name} (HTTP ${response.status})`;
  return new AwsServiceError(name, text, response.status, response.headers["x-amzn-requestid"], members);
}
