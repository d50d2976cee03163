// The metrics module (shared/metrics.ts) through the HTTP pipeline, with a fake Lambda context: the EMF documents a
// function writes for a token, a refusal and a cold start, as Powertools Metrics writes them; the token function's
// own writer writing the same documents; POWERTOOLS_METRICS_DISABLED and POWERTOOLS_DEV as Powertools reads them.
import type { Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { datapointsOf, parseEmf, type EmfDocument } from "../../local/emf.ts";
import type { Authenticator } from "../../shared/auth/authenticator.ts";
import type * as ErrorsModule from "../../shared/errors.ts";
import type * as MetricsModule from "../../shared/metrics.ts";
import type * as PowertoolsModule from "../../shared/metrics-powertools.ts";
import type * as HandlerModule from "../../shared/http/handler.ts";
import { httpEvent } from "../support/fakes.ts";

const context = (functionName: string) =>
  ({ functionName, awsRequestId: "aws-req", getRemainingTimeInMillis: () => 10_000 }) as unknown as Context;

const event = (routeKey: string) =>
  httpEvent(routeKey, {
    headers: { authorization: "Bearer x.y.z" },
    pathParameters: { roomId: "room-7f3a" },
    requestId: "req-1",
  });

const caller = { userId: "3c9e6f1a-user", displayName: "Ana", groups: [], isAdmin: false };
const authenticator: Authenticator = {
  async authenticate(headers) {
    if (headers.authorization !== "Bearer x.y.z") throw new errors.UnauthorizedError("no valid JWT");
    return caller;
  },
};

/**
 * What `run` writes on stdout and stderr (with console.log and console.warn, which Powertools uses in POWERTOOLS_DEV
 * mode, and which vitest would otherwise take).
 */
async function output(run: () => Promise<unknown> | unknown): Promise<{ stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi
      .spyOn(process.stdout, "write")
      .mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true)),
    vi
      .spyOn(process.stderr, "write")
      .mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true)),
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(`${args.join(" ")}\n`)),
    vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void err.push(`${args.join(" ")}\n`)),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return { stdout: out.join(""), stderr: err.join("") };
}

const documentsIn = (text: string): EmfDocument[] =>
  text
    .split("\n")
    .map(parseEmf)
    .filter((d): d is EmfDocument => d !== undefined);

/** A document without its timestamp (which only has to be now). */
const untimed = (document: EmfDocument): Record<string, unknown> => {
  const {
    _aws: { Timestamp, ...aws },
    ...rest
  } = document;
  expect(Math.abs(Timestamp - Date.now())).toBeLessThan(60_000);
  return { _aws: aws, ...rest };
};

const directive = (dimensions: string[][], metrics: Array<[string, string]>) => ({
  CloudWatchMetrics: [
    { Namespace: "stagepass", Dimensions: dimensions, Metrics: metrics.map(([Name, Unit]) => ({ Name, Unit })) },
  ],
});

// Each test gets the module afresh: a new container (its first invocation a cold start), read from this environment,
// publishing with Powertools Metrics as every function but the token function does.
let metrics: typeof MetricsModule;
let powertools: typeof PowertoolsModule;
let http: typeof HandlerModule;
let errors: typeof ErrorsModule;
const saved = { ...process.env };
beforeEach(async () => {
  vi.resetModules();
  process.env.POWERTOOLS_SERVICE_NAME = "stagepass-test";
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = "on-demand";
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_DEV;
  metrics = await import("../../shared/metrics.ts");
  powertools = await import("../../shared/metrics-powertools.ts");
  http = await import("../../shared/http/handler.ts");
  errors = await import("../../shared/errors.ts");
  metrics.useMetricsPublisher(powertools.powertoolsPublisher());
});
afterEach(() => {
  process.env = { ...saved };
});

describe("through the HTTP pipeline (middy), published by Powertools Metrics", () => {
  it("a token: its cold start, the token by mode, each IVS and DynamoDB call's latency by operation (and over all)", async () => {
    const handler = http.createHttpHandler(
      {
        "POST /rooms/{roomId}/token": async () => {
          metrics.recordDynamoDbLatency("BatchGetItem", 4.567);
          metrics.recordIvsLatency("CreateParticipantToken", 12);
          metrics.recordDynamoDbLatency("TransactWriteItems", 9.1);
          metrics.countTokenIssued("api");
          return { status: 200, body: { token: "participant-token" } };
        },
      },
      authenticator,
    );
    const first = await output(async () =>
      expect(
        (await handler(event("POST /rooms/{roomId}/token"), context("stagepass-TokenFunction-1A2B"))).statusCode,
      ).toBe(200),
    );
    expect(first.stderr).toBe("");
    expect(documentsIn(first.stdout).map(untimed)).toEqual([
      {
        _aws: directive([["service", "function_name"]], [["ColdStart", "Count"]]),
        service: "stagepass-test",
        function_name: "stagepass-TokenFunction-1A2B",
        ColdStart: 1,
      },
      {
        _aws: directive([["service", "operation"], ["service"]], [["DynamoDbLatency", "Milliseconds"]]),
        service: "stagepass-test",
        operation: "BatchGetItem",
        DynamoDbLatency: 4.57,
      },
      {
        _aws: directive([["service", "operation"], ["service"]], [["IvsLatency", "Milliseconds"]]),
        service: "stagepass-test",
        operation: "CreateParticipantToken",
        IvsLatency: 12,
      },
      {
        _aws: directive([["service", "operation"], ["service"]], [["DynamoDbLatency", "Milliseconds"]]),
        service: "stagepass-test",
        operation: "TransactWriteItems",
        DynamoDbLatency: 9.1,
      },
      {
        _aws: directive([["service", "mode"]], [["TokensIssued", "Count"]]),
        service: "stagepass-test",
        mode: "api",
        TokensIssued: 1,
      },
    ]);
    // Nothing of the request, the caller or the token in any of them.
    expect(first.stdout).not.toMatch(/room-7f3a|3c9e6f1a-user|participant-token|req-1/);

    // The container's next invocation: no cold start, and only this invocation's figures.
    const second = await output(() =>
      handler(event("POST /rooms/{roomId}/token"), context("stagepass-TokenFunction-1A2B")),
    );
    expect(documentsIn(second.stdout).map((d) => datapointsOf(d).map((p) => p.name))).toEqual([
      ["DynamoDbLatency", "DynamoDbLatency"],
      ["IvsLatency", "IvsLatency"],
      ["DynamoDbLatency", "DynamoDbLatency"],
      ["TokensIssued"],
    ]);
  });

  it("a refusal: Refusals by the function and the problem's code, whatever refused (the route, authentication, a bug)", async () => {
    const handler = http.createHttpHandler(
      {
        "POST /rooms/{roomId}/token": async () => {
          throw new errors.BannedError("2030-01-01T00:00:00.000Z");
        },
        "GET /rooms/{roomId}/token": async () => {
          throw new Error("a bug");
        },
      },
      authenticator,
    );
    const ctx = context("stagepass-TokenFunction-1A2B");
    const { stdout } = await output(async () => {
      expect((await handler(event("POST /rooms/{roomId}/token"), ctx)).statusCode).toBe(403);
      expect((await handler({ ...event("POST /rooms/{roomId}/token"), headers: {} }, ctx)).statusCode).toBe(401);
      expect((await handler(event("GET /rooms/{roomId}/token"), ctx)).statusCode).toBe(500);
    });
    const refusals = documentsIn(stdout)
      .map(untimed)
      .filter((d) => "Refusals" in d);
    const refusal = (code: string) => ({
      _aws: directive([["service", "function_name", "code"]], [["Refusals", "Count"]]),
      service: "stagepass-test",
      function_name: "stagepass-TokenFunction-1A2B",
      code,
      Refusals: 1,
    });
    expect(refusals).toEqual([refusal("banned"), refusal("unauthorized"), refusal("internal")]);
  });

  it("a throttled IVS call: the throttle and the retry by operation and summed, each attempt timed", async () => {
    const { call } = await import("../../shared/aws/ivs-call.ts");
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 429 },
    });
    let attempts = 0;
    const handler = http.createHttpHandler(
      {
        "POST /rooms/{roomId}/kick": async () => {
          await call("DisconnectParticipant", Date.now() + 5_000, async () => {
            if (attempts++ === 0) throw throttled;
            return {};
          });
          return { status: 200, body: {} };
        },
      },
      authenticator,
    );
    const { stdout } = await output(async () =>
      expect(
        (await handler(event("POST /rooms/{roomId}/kick"), context("stagepass-ModerationFunction-7Q"))).statusCode,
      ).toBe(200),
    );
    expect(attempts).toBe(2);
    const ivs = documentsIn(stdout)
      .map(untimed)
      .filter((d) => d.operation === "DisconnectParticipant");
    expect(ivs).toHaveLength(1);
    const { IvsLatency, ...rest } = ivs[0]!;
    expect(rest).toEqual({
      _aws: directive(
        [["service", "operation"], ["service"]],
        [
          ["IvsThrottles", "Count"],
          ["IvsLatency", "Milliseconds"],
          ["IvsRetries", "Count"],
        ],
      ),
      service: "stagepass-test",
      operation: "DisconnectParticipant",
      IvsThrottles: 1,
      IvsRetries: 1,
    });
    expect(IvsLatency).toEqual([expect.any(Number), expect.any(Number)]);
  });

  it("a request that records nothing writes nothing: no document, no Powertools warning", async () => {
    const handler = http.createHttpHandler({ "GET /health": async () => ({ status: 200, body: { status: "ok" } }) });
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = "provisioned-concurrency";
    const written = await output(async () => {
      for (let i = 0; i < 3; i++)
        expect((await handler(event("GET /health"), context("stagepass-HealthFunction-9Z"))).statusCode).toBe(200);
    });
    expect(written).toEqual({ stdout: "", stderr: "" });
  });

  it("many values of one metric: arrays of at most 100 values, as CloudWatch takes them", async () => {
    const written = await output(() => {
      for (let i = 0; i < 150; i++) metrics.recordDynamoDbLatency("Query", i);
      metrics.publishMetrics();
    });
    const values = documentsIn(written.stdout).map((d) => d.DynamoDbLatency);
    expect(values).toEqual([Array.from({ length: 100 }, (_, i) => i), Array.from({ length: 50 }, (_, i) => 100 + i)]);
  });

  it("every metric with its published dimension sets (PUBLISHED_DIMENSIONS), none a user, room, participant or stage", async () => {
    const written = await output(() => {
      metrics.invocationStarted(context("fn"));
      metrics.countTokenIssued("self-signed");
      metrics.countTokenExchanged();
      metrics.countRefusal("fn", "rate_limited");
      metrics.countIvsThrottle("CreateParticipantToken");
      metrics.countIvsRetry("CreateParticipantToken");
      metrics.recordIvsLatency("DisconnectParticipant", 1);
      metrics.recordDynamoDbLatency("Query", 1);
      metrics.countKick();
      metrics.countDisconnectsQueued(3);
      metrics.countQueuedDisconnect("completed");
      metrics.countQueuedDisconnect("failed");
      metrics.countWebhookDelivery("delivered");
      metrics.countWebhookDelivery("failed");
      for (const name of ["WebhookEnqueueFailed", "WebhookEventsKept", "WebhookEventsLost"] as const)
        metrics.count(name, 2);
      metrics.countIvsEvent("processed");
      metrics.countIvsEvent({ ignored: "unknown_stage" });
      metrics.publishMetrics();
    });
    const points = documentsIn(written.stdout).flatMap(datapointsOf);
    expect(new Set(points.map((p) => p.name))).toEqual(new Set(Object.values(metrics.MetricName)));
    const sets = new Map<string, string[][]>();
    for (const p of points) {
      expect(p.namespace).toBe("stagepass");
      for (const name of Object.keys(p.dimensions))
        expect(["service", "mode", "operation", "function_name", "code", "reason"]).toContain(name);
      sets.set(p.name, [...(sets.get(p.name) ?? []), Object.keys(p.dimensions)]);
    }
    expect(Object.fromEntries(sets)).toEqual(metrics.PUBLISHED_DIMENSIONS);
    expect(points.find((p) => p.name === "DisconnectsQueued")).toMatchObject({
      dimensions: { service: "stagepass-test" },
      values: [3],
    });
  });
});

describe("the token function's writer (emfWriter)", () => {
  /** The same figures through both publishers: the documents Powertools writes, and ours. */
  const record = () => {
    metrics.invocationStarted(context("stagepass-TokenFunction-1A2B"));
    metrics.recordDynamoDbLatency("BatchGetItem", 3.2);
    metrics.countIvsThrottle("CreateParticipantToken");
    metrics.countIvsRetry("CreateParticipantToken");
    metrics.recordIvsLatency("CreateParticipantToken", 40);
    metrics.recordIvsLatency("CreateParticipantToken", 11.5);
    for (let i = 0; i < 120; i++) metrics.recordDynamoDbLatency("TransactWriteItems", i / 4);
    metrics.countTokenIssued("api");
    metrics.countRefusal("stagepass-TokenFunction-1A2B", "rate_limited");
    metrics.countKick();
  };

  it("writes, in one write, exactly the documents Powertools Metrics writes", async () => {
    const theirs = await output(() => {
      record();
      metrics.publishMetrics();
    });
    vi.resetModules();
    metrics = await import("../../shared/metrics.ts");
    const writes: string[] = [];
    metrics.useMetricsPublisher(metrics.emfWriter({ write: (text) => writes.push(text) }));
    const ours = await output(() => {
      record();
      metrics.publishMetrics();
    });
    expect(ours).toEqual({ stdout: "", stderr: "" });
    expect(writes).toHaveLength(1);
    const expected = documentsIn(theirs.stdout).map(untimed);
    expect(expected.length).toBeGreaterThanOrEqual(8);
    expect(documentsIn(writes[0]!).map(untimed)).toEqual(expected);
    // Key for key, in Powertools' order.
    expect(documentsIn(writes[0]!).map((d) => Object.keys(d))).toEqual(
      documentsIn(theirs.stdout).map((d) => Object.keys(d)),
    );
  });

  it("is the default: a container that chooses no publisher (the token function) writes its documents in one write", async () => {
    vi.resetModules();
    metrics = await import("../../shared/metrics.ts");
    const writes: string[] = [];
    const spy = vi
      .spyOn(process.stdout, "write")
      .mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));
    try {
      metrics.recordDynamoDbLatency("BatchGetItem", 1.5);
      metrics.countTokenIssued("api");
      metrics.publishMetrics();
    } finally {
      spy.mockRestore();
    }
    expect(writes).toHaveLength(1);
    expect(documentsIn(writes[0]!).map((d) => [d.operation ?? d.mode, d.DynamoDbLatency ?? d.TokensIssued])).toEqual([
      ["BatchGetItem", 1.5],
      ["api", 1],
    ]);
  });

  it("writes to stdout by default, and reads its settings once", async () => {
    const env = { POWERTOOLS_SERVICE_NAME: "svc" } as NodeJS.ProcessEnv;
    const writer = metrics.emfWriter({ env, now: () => 1_700_000_000_000 });
    env.POWERTOOLS_SERVICE_NAME = "changed";
    env.POWERTOOLS_METRICS_DISABLED = "true";
    const { stdout } = await output(() =>
      writer.publish([
        {
          dimensions: { mode: "api" },
          rollup: false,
          metrics: new Map([["TokensIssued", { unit: "Count", values: [1] }]]),
        },
      ]),
    );
    expect(stdout).toBe(
      '{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"stagepass","Dimensions":[["service","mode"]],"Metrics":[{"Name":"TokensIssued","Unit":"Count"}]}]},"service":"svc","mode":"api","TokensIssued":1}\n',
    );
  });
});

describe("the token function's writer, deferred (emfWriter({ defer: true }))", () => {
  const group = (value: number) => ({
    dimensions: { operation: "BatchGetItem" },
    rollup: true,
    metrics: new Map([["DynamoDbLatency", { unit: "Milliseconds" as const, values: [value] }]]),
  });

  it("writes nothing before the response is on its way, then each invocation's documents in one write, in order", async () => {
    const writes: string[] = [];
    const writer = metrics.emfWriter({ write: (text) => writes.push(text), defer: true, now: () => 1 });
    writer.publish([group(1.5)]);
    writer.publish([group(2.5)]);
    // What Lambda's runtime does after the handler: post the response, then ask for the next invocation from a
    // callback it schedules with setImmediate, behind the writes already queued.
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.map((w) => documentsIn(w).map((d) => d.DynamoDbLatency))).toEqual([[1.5], [2.5]]);
  });

  it("a write that fails later is said on stderr and throws nowhere", async () => {
    const writer = metrics.emfWriter({
      write: () => {
        throw new Error("EPIPE");
      },
      defer: true,
    });
    const { stderr } = await output(async () => {
      writer.publish([group(1)]);
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(stderr).toBe("metrics not published: EPIPE\n");
  });
});

describe("POWERTOOLS_METRICS_DISABLED and POWERTOOLS_DEV, as Powertools reads them", () => {
  const cases: Array<[Record<string, string>, boolean]> = [
    [{}, true],
    [{ POWERTOOLS_METRICS_DISABLED: "true" }, false],
    [{ POWERTOOLS_METRICS_DISABLED: "1" }, false],
    [{ POWERTOOLS_DEV: "true" }, false],
    [{ POWERTOOLS_DEV: "true", POWERTOOLS_METRICS_DISABLED: "false" }, true],
    [{ POWERTOOLS_METRICS_DISABLED: "false" }, true],
  ];
  it.each(cases)("%j: published %s, by both publishers", async (vars, published) => {
    const group = {
      dimensions: {},
      rollup: false,
      metrics: new Map([["Kicks", { unit: "Count" as const, values: [1] }]]),
    };
    Object.assign(process.env, vars);
    const theirs = await output(() => powertools.powertoolsPublisher().publish([group]));
    const ours = await output(() => metrics.emfWriter().publish([group]));
    expect(documentsIn(theirs.stdout)).toHaveLength(published ? 1 : 0);
    expect(documentsIn(ours.stdout)).toHaveLength(published ? 1 : 0);
    expect(metrics.metricsDisabled(process.env)).toBe(!published);
  });

  it("a publisher that fails costs the request nothing: the failure is said on stderr", async () => {
    metrics.useMetricsPublisher(
      powertools.powertoolsPublisher({
        create: () => {
          const failing = new Metrics({ namespace: "stagepass" });
          failing.publishStoredMetrics = () => {
            throw new Error("stdout is gone");
          };
          return failing;
        },
      }),
    );
    const handler = http.createHttpHandler({
      "GET /health": async () => {
        metrics.countKick();
        return { status: 200 };
      },
    });
    const written = await output(async () =>
      expect((await handler(event("GET /health"), context("fn"))).statusCode).toBe(200),
    );
    expect(written.stderr).toContain("metrics not published: stdout is gone");
  });
});
