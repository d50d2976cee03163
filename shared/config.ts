// Configuration, read once per container from the environment, validated, failing fast with a clear message.
// Use cases receive a Config; none reads process.env.

export type TokenMode = "api" | "self-signed";

export interface Config {
  tableName: string;
  userPoolId: string;
  userPoolClientIds: string[];
  tokenUse: "id" | "access";
  adminGroup: string;
  /** Empty: any signed-in user may create rooms. */
  roomCreatorGroups: string[];
  tokenRatePerMinute: number;
  tokenMode: TokenMode;
  disconnectQueueUrl: string | undefined;
  /** The webhook delivery queue; undefined when webhooks are off (the WebhookUrl parameter is empty). */
  webhookQueueUrl: string | undefined;
  /**
   * How often the live-state function's watch sweeps the live rooms (seconds, LIVE_WATCH_SECONDS, default 10);
   * 0 when the watch is off (docs/live-rooms.md, "The watch").
   */
  liveWatchSeconds: number;
  /** Where to fetch the user pool's JWKS when not from Cognito itself (the offline stack's identity). */
  jwksUri: string | undefined;
  /** Self-signed mode: the secret (Secrets Manager id or ARN) holding the signing key. */
  signingKeySecretId: string | undefined;
}

export class ConfigError extends Error {}

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const missing = (name: string): never => {
    throw new ConfigError(`environment variable ${name} is required`);
  };
  const tokenUse = env.TOKEN_USE || "id";
  if (tokenUse !== "id" && tokenUse !== "access")
    throw new ConfigError(`TOKEN_USE must be id or access, not ${tokenUse}`);
  const tokenMode = env.TOKEN_MODE || "api";
  if (tokenMode !== "api" && tokenMode !== "self-signed") {
    throw new ConfigError(`TOKEN_MODE must be api or self-signed, not ${tokenMode}`);
  }
  const rate = Number(env.TOKEN_RATE_PER_MINUTE || "10");
  if (!Number.isInteger(rate) || rate < 1) throw new ConfigError("TOKEN_RATE_PER_MINUTE must be a positive integer");
  const watch = Number(env.LIVE_WATCH_SECONDS || "10");
  if (!Number.isInteger(watch) || watch < 0 || watch > 50)
    throw new ConfigError("LIVE_WATCH_SECONDS must be an integer from 0 (off) to 50");
  const clientIds = list(env.USER_POOL_CLIENT_IDS);
  if (clientIds.length === 0) missing("USER_POOL_CLIENT_IDS");
  return {
    tableName: env.TABLE_NAME || missing("TABLE_NAME"),
    userPoolId: env.USER_POOL_ID || missing("USER_POOL_ID"),
    userPoolClientIds: clientIds,
    tokenUse,
    adminGroup: env.ADMIN_GROUP || "admin",
    roomCreatorGroups: list(env.ROOM_CREATOR_GROUPS),
    tokenRatePerMinute: rate,
    tokenMode,
    disconnectQueueUrl: env.DISCONNECT_QUEUE_URL || undefined,
    webhookQueueUrl: env.WEBHOOK_QUEUE_URL || undefined,
    liveWatchSeconds: watch,
    jwksUri: env.JWKS_URI || undefined,
    signingKeySecretId: env.SIGNING_KEY_SECRET_ID || undefined,
  };
}

/** The webhook function's own settings (functions/webhooks). */
export interface WebhookConfig {
  tableName: string;
  /** Where webhooks go; undefined when they are off. */
  url: string | undefined;
  /** The secret (Secrets Manager id or ARN) holding the signing key(s). */
  secretId: string;
  /** The queue it consumes, which the outbox sweep sends to. */
  queueUrl: string;
}

export function loadWebhookConfig(env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`environment variable ${name} is required`);
    return value;
  };
  const url = env.WEBHOOK_URL || undefined;
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError("WEBHOOK_URL must be an absolute URL");
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
      throw new ConfigError("WEBHOOK_URL must be an http(s) URL");
  }
  return {
    tableName: required("TABLE_NAME"),
    url,
    secretId: required("WEBHOOK_SECRET_ID"),
    queueUrl: required("WEBHOOK_QUEUE_URL"),
  };
}
