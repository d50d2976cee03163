// Operational metrics (docs/operations.md): what stagepass does and how IVS and DynamoDB treat it, as CloudWatch
// metrics in one namespace. They are written as embedded metric format (EMF) documents on stdout, which CloudWatch
// Logs turns into metrics: no PutMetricData call, no IAM permission, nothing on the request's path but one write.
//
// Few dimensions, and never a user, room, participant or stage: every distinct set of dimension values is a metric
// billed by the month. Besides `service` (POWERTOOLS_SERVICE_NAME: the stack's name, so that two stacks in one
// account stay apart), a metric has at most: `mode` (api, self-signed), `operation` (an IVS or DynamoDB operation,
// each such metric also published without it, summed over operations), `code` (a problem code) with
// `function_name` (the Lambda function), `reason` (why an IVS event was ignored).
//
// Code records with the small functions below while an invocation runs; the invocation publishes once, at its end
// (the HTTP pipeline's middleware, shared/http/middlewares/metrics.ts; the queue and event handlers, withMetrics),
// one document per set of dimension values. Two publishers write the same documents: Powertools Metrics
// (metrics-powertools.ts), which every function but the token function chooses at init, and emfWriter below, a
// writer of our own, the token function's: a token request writes five documents, and Powertools writes each apart,
// at ~11 µs of work and one write each (docs/performance.md). emfWriter is the default, so that the token function's
// bundle holds no Powertools Metrics.
import type { Context } from "aws-lambda";

export const NAMESPACE = "stagepass";

/** Every metric's name; template.yaml's alarms and dashboard use the same (tests/integration/sam-template.test.ts). */
export const MetricName = {
  /** A participant token handed out; dimension `mode`. */
  TokensIssued: "TokensIssued",
  /** A token exchanged for a participant the caller holds (self-signed mode: promotion, renewal). */
  TokensExchanged: "TokensExchanged",
  /** A request answered with a problem document (4xx or 5xx); dimensions `function_name`, `code`. */
  Refusals: "Refusals",
  /** An IVS call answered "throttled" (429); dimension `operation`, and summed without it. */
  IvsThrottles: "IvsThrottles",
  /** An IVS call attempted again after a throttle, a 5xx or a timeout; dimension `operation`, and summed. */
  IvsRetries: "IvsRetries",
  /** One IVS attempt's time, answered or not; dimension `operation`, and over all operations. */
  IvsLatency: "IvsLatency",
  /** One DynamoDB call's time, its client's own retries included; dimension `operation`, and over all operations. */
  DynamoDbLatency: "DynamoDbLatency",
  /** A kick request that succeeded (with or without a ban). */
  Kicks: "Kicks",
  /** Disconnects handed to the disconnect queue because IVS throttled or the request's time ran out. */
  DisconnectsQueued: "DisconnectsQueued",
  /** Queued disconnects the worker completed. */
  QueuedDisconnectsCompleted: "QueuedDisconnectsCompleted",
  /** Queued disconnects the worker could not complete this time (SQS retries them, then dead-letters them). */
  QueuedDisconnectsFailed: "QueuedDisconnectsFailed",
  /** A webhook posted and answered 2xx by the receiver. */
  WebhookDeliveries: "WebhookDeliveries",
  /** A webhook attempt that failed (another status, a timeout): SQS hands it back later, the 8th goes to the DLQ. */
  WebhookFailures: "WebhookFailures",
  /** Webhook events the delivery queue did not take (then kept in the table's outbox, or lost). */
  WebhookEnqueueFailed: "WebhookEnqueueFailed",
  /** Webhook events kept in the outbox for the sweeper after the queue refused them. */
  WebhookEventsKept: "WebhookEventsKept",
  /** Webhook events neither the queue nor the outbox took: never delivered. */
  WebhookEventsLost: "WebhookEventsLost",
  /** An IVS Stage Update event applied to its room's live state. */
  IvsEventsProcessed: "IvsEventsProcessed",
  /** An IVS event that changed nothing; dimension `reason` (malformed, unknown_stage). */
  IvsEventsIgnored: "IvsEventsIgnored",
  /** A function's first invocation in a new container (on-demand; Powertools' name); dimension `function_name`. */
  ColdStart: "ColdStart",
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

const BY_OPERATION = [["service", "operation"], ["service"]];
/** The dimension sets each metric is published with (what an alarm or a dashboard may ask CloudWatch for). */
export const PUBLISHED_DIMENSIONS: Readonly<Record<MetricName, readonly (readonly string[])[]>> = {
  TokensIssued: [["service", "mode"]],
  TokensExchanged: [["service"]],
  Refusals: [["service", "function_name", "code"]],
  IvsThrottles: BY_OPERATION,
  IvsRetries: BY_OPERATION,
  IvsLatency: BY_OPERATION,
  DynamoDbLatency: BY_OPERATION,
  Kicks: [["service"]],
  DisconnectsQueued: [["service"]],
  QueuedDisconnectsCompleted: [["service"]],
  QueuedDisconnectsFailed: [["service"]],
  WebhookDeliveries: [["service"]],
  WebhookFailures: [["service"]],
  WebhookEnqueueFailed: [["service"]],
  WebhookEventsKept: [["service"]],
  WebhookEventsLost: [["service"]],
  IvsEventsProcessed: [["service"]],
  IvsEventsIgnored: [["service", "reason"]],
  ColdStart: [["service", "function_name"]],
};

export type MetricUnit = "Count" | "Milliseconds";

export type TokenMode = "api" | "self-signed";

/** The metrics of one invocation that share their dimension values: one EMF document. */
export interface MetricGroup {
  /** Names the dimension values (the recorder's key), for a writer that keeps what it made for them. */
  readonly key?: string;
  /** Dimension name → value, besides `service`, in the order they are published. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Also published with `service` alone: a metric per operation summed over every operation. */
  readonly rollup: boolean;
  readonly metrics: ReadonlyMap<string, { readonly unit: MetricUnit; readonly values: readonly number[] }>;
}

interface OpenGroup extends MetricGroup {
  readonly metrics: Map<string, { unit: MetricUnit; values: number[] }>;
}

/** What an invocation has recorded so far, by dimension values. */
export class MetricsRecorder {
  #groups = new Map<string, OpenGroup>();

  add(
    name: MetricName,
    unit: MetricUnit,
    value: number,
    key: string,
    dimensions: Record<string, string>,
    rollup = false,
  ): void {
    if (!Number.isFinite(value)) return;
    let group = this.#groups.get(key);
    if (!group) this.#groups.set(key, (group = { key, dimensions, rollup, metrics: new Map() }));
    const metric = group.metrics.get(name);
    if (metric) metric.values.push(value);
    else group.metrics.set(name, { unit, values: [value] });
  }

  /** Everything recorded, which the recorder forgets. */
  take(): MetricGroup[] {
    if (this.#groups.size === 0) return [];
    const groups = [...this.#groups.values()];
    this.#groups = new Map();
    return groups;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Publishers: the same EMF documents, by Powertools or by hand.

export interface MetricsPublisher {
  publish(groups: readonly MetricGroup[]): void;
}

/** EMF allows 100 values per metric in a document; Powertools publishes at 100 too. */
export const MAX_VALUES = 100;

export interface EmfWriterOptions {
  /** Where the documents go, one write per publication. Default: process.stdout. */
  write?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /**
   * Write once the response is on its way (setImmediate) rather than before it: the documents are built at once,
   * their one write (a system call, 50-60 µs of a token request in docs/performance.md) leaves the response's path.
   * Nothing is lost: Lambda's Node.js runtime posts the response, then asks for the next invocation from a callback
   * it schedules with setImmediate, after those already queued, so the write happens before the sandbox can freeze.
   */
  defer?: boolean;
}

/**
 * The documents Powertools writes, written by hand: one write per invocation for all of them. Reads its settings
 * once, as Powertools does: the service name, and whether metrics are disabled.
 */
export function emfWriter(options: EmfWriterOptions = {}): MetricsPublisher {
  const env = options.env ?? process.env;
  const service = env.POWERTOOLS_SERVICE_NAME?.trim() || "service_undefined";
  const disabled = metricsDisabled(env);
  const direct = options.write ?? ((text: string) => void process.stdout.write(text));
  const write = options.defer
    ? (text: string) =>
        void setImmediate(() => {
          try {
            direct(text);
          } catch (error) {
            process.stderr.write(`metrics not published: ${(error as Error).message}\n`);
          }
        })
    : direct;
  const now = options.now ?? Date.now;
  // What follows the timestamp up to the first value, and each metric's `"Name":`, made once per dimension values
  // and metric names: the token path's five documents cost string concatenation, not five JSON.stringify.
  const layouts = new Map<string, { middle: string; names: string[] }>();
  const layoutOf = (group: MetricGroup, names: string[]) => {
    const id = `${group.key ?? JSON.stringify([group.dimensions, group.rollup])}\u0000${names.join("\u0000")}`;
    let layout = layouts.get(id);
    if (!layout) {
      const [document] = emfDocuments(
        { ...group, metrics: new Map(names.map((n) => [n, { unit: group.metrics.get(n)!.unit, values: [0] }])) },
        service,
        0,
      );
      const {
        _aws: { Timestamp: _t, ...directives },
        ...rest
      } = document as { _aws: Record<string, unknown> } & Record<string, unknown>;
      for (const name of names) delete rest[name];
      const tail = JSON.stringify(rest);
      layout = {
        middle: `,${JSON.stringify(directives).slice(1, -1)}},${tail.slice(1, -1)}`,
        names: names.map((n) => `,${JSON.stringify(n)}:`),
      };
      layouts.set(id, layout);
    }
    return layout;
  };
  return {
    publish(groups) {
      if (disabled || groups.length === 0) return;
      const timestamp = now();
      let text = "";
      for (const group of groups) {
        const names: string[] = [];
        let many = false;
        for (const [name, metric] of group.metrics) {
          names.push(name);
          if (metric.values.length > MAX_VALUES) many = true;
        }
        if (many) {
          for (const document of emfDocuments(group, service, timestamp)) text += `${JSON.stringify(document)}\n`;
          continue;
        }
        const layout = layoutOf(group, names);
        text += `{"_aws":{"Timestamp":${timestamp}${layout.middle}`;
        let i = 0;
        for (const metric of group.metrics.values()) {
          const values = metric.values;
          text += layout.names[i++] + (values.length === 1 ? String(values[0]) : `[${values.join(",")}]`);
        }
        text += "}\n";
      }
      write(text);
    },
  };
}

/** A group as EMF documents, in Powertools' layout: `_aws`, then the dimensions, then the values. */
export function emfDocuments(group: MetricGroup, service: string, timestamp: number): Array<Record<string, unknown>> {
  const documents: Array<Record<string, unknown>> = [];
  const dimensionNames = ["service", ...Object.keys(group.dimensions)];
  // More than MAX_VALUES values of a metric: the rest in further documents, as Powertools does.
  for (let offset = 0; ; offset += MAX_VALUES) {
    const metrics = [...group.metrics].filter(([, m]) => m.values.length > offset);
    if (metrics.length === 0) break;
    const document: Record<string, unknown> = {
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [
          {
            Namespace: NAMESPACE,
            Dimensions: group.rollup ? [dimensionNames, ["service"]] : [dimensionNames],
            Metrics: metrics.map(([name, m]) => ({ Name: name, Unit: m.unit })),
          },
        ],
      },
      service,
      ...group.dimensions,
    };
    for (const [name, m] of metrics) {
      const values = m.values.slice(offset, offset + MAX_VALUES);
      document[name] = values.length === 1 ? values[0] : values;
    }
    documents.push(document);
  }
  return documents;
}

const TRUE = new Set(["1", "y", "yes", "t", "true", "on"]);
const flag = (value: string | undefined) => TRUE.has((value ?? "").trim().toLowerCase());

/** Powertools' rule: POWERTOOLS_METRICS_DISABLED when set, else disabled in POWERTOOLS_DEV mode. */
export function metricsDisabled(env: NodeJS.ProcessEnv): boolean {
  if (env.POWERTOOLS_METRICS_DISABLED !== undefined) return flag(env.POWERTOOLS_METRICS_DISABLED);
  return flag(env.POWERTOOLS_DEV);
}

// ---------------------------------------------------------------------------------------------------------------
// The container's recorder and publisher, and the one-line calls the code makes.

const recorder = new MetricsRecorder();
let publisher: MetricsPublisher | undefined;
let firstInvocation = true;

/** Sets the container's publisher (every function but the token function: powertoolsPublisher). Default: emfWriter. */
export function useMetricsPublisher(next: MetricsPublisher): void {
  publisher = next;
}

/** Publishes what this invocation recorded. Never throws: a metric is never worth a failed request. */
export function publishMetrics(): void {
  const groups = recorder.take();
  if (groups.length === 0) return;
  try {
    (publisher ??= emfWriter()).publish(groups);
  } catch (error) {
    process.stderr.write(`metrics not published: ${(error as Error).message}\n`);
  }
}

/** An invocation begins: the container's first one counts a cold start (on-demand containers, as Powertools). */
export function invocationStarted(context: Pick<Context, "functionName">, env: NodeJS.ProcessEnv = process.env): void {
  if (!firstInvocation) return;
  firstInvocation = false;
  if (env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() !== "on-demand") return;
  const name = context.functionName || "unknown";
  recorder.add(MetricName.ColdStart, "Count", 1, `cold\u0000${name}`, { function_name: name });
}

/** Runs a handler that middy does not wrap (queue and event handlers) with the same cold start and publication. */
export async function withMetrics<T>(context: Pick<Context, "functionName">, run: () => Promise<T>): Promise<T> {
  invocationStarted(context);
  try {
    return await run();
  } finally {
    publishMetrics();
  }
}

const byOperation = (name: MetricName, unit: MetricUnit, operation: string, value: number) =>
  recorder.add(name, unit, value, `op\u0000${operation}`, { operation }, true);
/** Milliseconds to 0.01: shorter lines, and finer than any latency worth a look. */
const ms = (value: number) => Math.round(value * 100) / 100;

export const countTokenIssued = (mode: TokenMode): void =>
  recorder.add(MetricName.TokensIssued, "Count", 1, `mode\u0000${mode}`, { mode });
export const countTokenExchanged = (): void => recorder.add(MetricName.TokensExchanged, "Count", 1, "", {});

export const countRefusal = (functionName: string | undefined, code: string): void => {
  const name = functionName || "unknown";
  recorder.add(MetricName.Refusals, "Count", 1, `refusal\u0000${name}\u0000${code}`, { function_name: name, code });
};

export const countIvsThrottle = (operation: string): void =>
  byOperation(MetricName.IvsThrottles, "Count", operation, 1);
export const countIvsRetry = (operation: string): void => byOperation(MetricName.IvsRetries, "Count", operation, 1);
export const recordIvsLatency = (operation: string, milliseconds: number): void =>
  byOperation(MetricName.IvsLatency, "Milliseconds", operation, ms(milliseconds));
export const recordDynamoDbLatency = (operation: string, milliseconds: number): void =>
  byOperation(MetricName.DynamoDbLatency, "Milliseconds", operation, ms(milliseconds));

export const countKick = (): void => recorder.add(MetricName.Kicks, "Count", 1, "", {});
export const countDisconnectsQueued = (count: number): void =>
  recorder.add(MetricName.DisconnectsQueued, "Count", count, "", {});
export const countQueuedDisconnect = (outcome: "completed" | "failed"): void =>
  recorder.add(
    outcome === "completed" ? MetricName.QueuedDisconnectsCompleted : MetricName.QueuedDisconnectsFailed,
    "Count",
    1,
    "",
    {},
  );

export const countWebhookDelivery = (outcome: "delivered" | "failed"): void =>
  recorder.add(outcome === "delivered" ? MetricName.WebhookDeliveries : MetricName.WebhookFailures, "Count", 1, "", {});
/** The webhook sink's counts (shared/webhooks/sink.ts): events the queue refused, kept in the outbox, or lost. */
export const count = (
  name:
    typeof MetricName.WebhookEnqueueFailed | typeof MetricName.WebhookEventsKept | typeof MetricName.WebhookEventsLost,
  value: number,
): void => recorder.add(name, "Count", value, "", {});

export const countIvsEvent = (outcome: "processed" | { ignored: "malformed" | "unknown_stage" }): void => {
  if (outcome === "processed") recorder.add(MetricName.IvsEventsProcessed, "Count", 1, "", {});
  else
    recorder.add(MetricName.IvsEventsIgnored, "Count", 1, `ignored\u0000${outcome.ignored}`, {
      reason: outcome.ignored,
    });
};
