/**
 * The functions' metrics through the offline stack (docs/operations.md): the EMF documents each function writes on
 * stdout, read through the stack's `functionOutput`, for a token, a refusal, a kick, a throttled IVS call, webhook
 * deliveries and failures, and IVS events processed and ignored; and what `GET /dev/metrics` counts of them.
 */
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { CreateParticipantTokenCommand, CreateStageCommand } from "@aws-sdk/client-ivs-realtime";
import { afterAll, describe, expect, it } from "vitest";
import { datapointsOf, type EmfDatapoint } from "../../local/emf.ts";
import type { FunctionOutput } from "../../local/stack.ts";
import { useStack, type Session } from "../support/stack.ts";

/** A webhook receiver that refuses the first webhook it gets (500) and takes every other one (204). */
const answered = { ok: 0, failed: 0 };
const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const refuse = answered.ok + answered.failed === 0;
    if (refuse) answered.failed += 1;
    else answered.ok += 1;
    res.writeHead(refuse ? 500 : 204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
afterAll(
  () =>
    new Promise<void>((resolve) => {
      receiver.closeAllConnections();
      receiver.close(() => resolve());
    }),
);

const outputs: FunctionOutput[] = [];
const stack = useStack({
  functionOutput: (output) => outputs.push(output),
  // Webhooks on, to the receiver above; retries seconds apart instead of minutes.
  env: {
    ...process.env,
    WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`,
    QUEUE_DELAY_SCALE: "0.0001",
  },
});
const SERVICE = "stagepass-local";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The metrics `functionName` has published since `from` (a position in `outputs`). */
const published = (functionName: string, from: number): EmfDatapoint[] =>
  outputs
    .slice(from)
    .filter((o) => o.functionName === functionName && o.emf)
    .flatMap((o) => datapointsOf(o.emf!));

/** A function's lines reach the stack after its answer: waits until `name` is among what it published since `from`. */
async function publishedWith(functionName: string, from: number, name: string, ms = 15_000): Promise<EmfDatapoint[]> {
  const until = Date.now() + ms;
  for (;;) {
    const points = published(functionName, from);
    if (points.some((p) => p.name === name)) {
      await sleep(200); // the rest of the invocation's lines, if any are still on their way
      return published(functionName, from);
    }
    if (Date.now() > until)
      throw new Error(`${functionName} published no ${name} within ${ms} ms: ${JSON.stringify(points)}`);
    await sleep(25);
  }
}

/** name → [dimensions → sum], for comparisons that ignore the order of documents. */
const sums = (points: EmfDatapoint[], name: string) => {
  const out: Record<string, number> = {};
  for (const p of points.filter((x) => x.name === name)) {
    const key = JSON.stringify(p.dimensions);
    out[key] = (out[key] ?? 0) + p.values.reduce((a, b) => a + b, 0);
  }
  return out;
};
const samples = (points: EmfDatapoint[], name: string, dimensions: Record<string, string>) =>
  points
    .filter((p) => p.name === name && JSON.stringify(p.dimensions) === JSON.stringify(dimensions))
    .flatMap((p) => p.values);
const key = (dimensions: Record<string, string>) => JSON.stringify({ service: SERVICE, ...dimensions });

async function emulator(method: string, path: string, body?: unknown) {
  const r = await fetch(`${stack().stack.ivs.url}${path}`, {
    method,
    ...(body ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  return r.json() as Promise<any>;
}
const createParticipantTokenCalls = async () =>
  Number((await emulator("GET", "/_emulator/stats")).requests?.CreateParticipantToken ?? 0);

let owner: Session;
let roomId: string;

describe("the functions' metrics, through the offline stack", () => {
  it("a room: the rooms function's cold start, its DynamoDB calls and its IVS CreateStage, timed", async () => {
    const s = stack();
    owner = await s.login("metrics-e2e-owner");
    const mark = outputs.length;
    roomId = (await s.createRoom(owner, { name: "metrics-e2e" })).roomId;
    const points = await publishedWith("RoomsFunction", mark, "IvsLatency");
    expect(sums(points, "ColdStart")).toEqual({ [key({ function_name: "RoomsFunction" })]: 1 });
    expect(samples(points, "IvsLatency", { service: SERVICE, operation: "CreateStage" })).toHaveLength(1);
    const dynamodb = points.filter((p) => p.name === "DynamoDbLatency" && p.dimensions.operation);
    expect(dynamodb.length).toBeGreaterThan(0);
    for (const p of points.filter((x) => x.unit === "Milliseconds"))
      for (const v of p.values) expect(v).toBeGreaterThanOrEqual(0);
  });

  it("a token: TokensIssued by mode, its DynamoDB calls and (api mode) its CreateParticipantToken, nothing of the request", async () => {
    const s = stack();
    const callsBefore = await createParticipantTokenCalls();
    const mark = outputs.length;
    const r = await s.api("POST", `/rooms/${roomId}/token`, { as: owner, body: {} });
    expect(r.status, r.text).toBe(200);
    const points = await publishedWith("TokenFunction", mark, "TokensIssued");
    expect(sums(points, "TokensIssued")).toEqual({ [key({ mode: s.tokenMode })]: 1 });
    // Each DynamoDB call by operation (the read, the token limit's charge, the record), and over all operations.
    const operations = new Set(
      points.filter((p) => p.name === "DynamoDbLatency" && p.dimensions.operation).map((p) => p.dimensions.operation),
    );
    expect([...operations].sort()).toEqual(["BatchGetItem", "TransactWriteItems", "UpdateItem"]);
    expect(samples(points, "DynamoDbLatency", { service: SERVICE })).toHaveLength(3);
    const ivsCalls = (await createParticipantTokenCalls()) - callsBefore;
    expect(ivsCalls).toBe(s.tokenMode === "api" ? 1 : 0);
    expect(samples(points, "IvsLatency", { service: SERVICE, operation: "CreateParticipantToken" })).toHaveLength(
      ivsCalls,
    );
    expect(points.filter((p) => ["Refusals", "IvsThrottles", "IvsRetries"].includes(p.name))).toEqual([]);
    // No room, user, participant or token in any document.
    const lines = outputs
      .slice(mark)
      .filter((o) => o.emf)
      .map((o) => o.line)
      .join("\n");
    expect(lines).not.toContain(roomId);
    expect(lines).not.toContain(owner.sub);
    expect(lines).not.toContain(r.body.participantId);
    expect(lines).not.toContain(r.body.token);
  });

  it("a kick with a ban, then the banned user's token request: Kicks, and a refusal by function and problem code", async () => {
    const s = stack();
    const viewer = await s.login("metrics-e2e-viewer");
    let mark = outputs.length;
    const kick = await s.api("POST", `/rooms/${roomId}/kick`, {
      as: owner,
      body: { userId: viewer.sub, banMinutes: 5 },
    });
    expect(kick.status, kick.text).toBe(200);
    expect(sums(await publishedWith("ModerationFunction", mark, "Kicks"), "Kicks")).toEqual({ [key({})]: 1 });

    mark = outputs.length;
    const refused = await s.api("POST", `/rooms/${roomId}/token`, { as: viewer, body: {} });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body.code).toBe("banned");
    const points = await publishedWith("TokenFunction", mark, "Refusals");
    expect(sums(points, "Refusals")).toEqual({ [key({ function_name: "TokenFunction", code: "banned" })]: 1 });
    expect(points.filter((p) => p.name === "TokensIssued")).toEqual([]);
  });

  it("a throttled IVS call: each throttle and retry by operation and summed, each attempt timed", async () => {
    const s = stack();
    expect(s.tokenMode).toBe("api"); // this file runs in the vitest project "api" only
    await emulator("POST", "/_emulator/faults", { operation: "CreateParticipantToken", status: 429, count: 1 });
    const callsBefore = await createParticipantTokenCalls();
    const mark = outputs.length;
    const r = await s.api("POST", `/rooms/${roomId}/token`, { as: owner, body: {} });
    expect(r.status, r.text).toBe(200);
    const points = await publishedWith("TokenFunction", mark, "TokensIssued");
    const attempts = (await createParticipantTokenCalls()) - callsBefore;
    expect(attempts).toBe(2);
    const operation = "CreateParticipantToken";
    expect(sums(points, "IvsThrottles")).toEqual({ [key({ operation })]: 1, [key({})]: 1 });
    expect(sums(points, "IvsRetries")).toEqual({ [key({ operation })]: 1, [key({})]: 1 });
    expect(samples(points, "IvsLatency", { service: SERVICE, operation })).toHaveLength(attempts);
    expect(sums(points, "TokensIssued")).toEqual({ [key({ mode: "api" })]: 1 });
  });

  it("webhooks: each delivery and each failed attempt, as the receiver answered them", async () => {
    const s = stack();
    // The room, the kick and the ban above made webhooks; the first was refused once, then delivered.
    const webhookQueue = s.stack.queues.queues.get("WebhookQueue")!;
    const until = Date.now() + 30_000;
    const all = () => published("WebhookFunction", 0);
    const total = (name: string) =>
      all()
        .filter((p) => p.name === name)
        .reduce((sum, p) => sum + p.values.reduce((a, b) => a + b, 0), 0);
    for (;;) {
      await webhookQueue.drained(30_000);
      if (
        answered.failed === 1 &&
        answered.ok >= 2 &&
        total("WebhookDeliveries") === answered.ok &&
        total("WebhookFailures") === answered.failed
      )
        break;
      if (Date.now() > until)
        throw new Error(
          `receiver ${JSON.stringify(answered)}, published ${total("WebhookDeliveries")} delivered and ${total("WebhookFailures")} failed`,
        );
      await sleep(100);
    }
    for (const p of all().filter((x) => x.name.startsWith("Webhook")))
      expect(p.dimensions).toEqual({ service: SERVICE });
  });

  it("IVS events: processed for a room's stage; ignored for a stage no room owns, and for an event it cannot read", async () => {
    const s = stack();
    const mark = outputs.length;
    const eventsHandled = async () => {
      await s.stack.ivs.eventsSettled();
      await s.stack.eventBus.drained();
    };
    // A participant of the room publishes: IVS sends "Participant Published".
    const token = await s.api("POST", `/rooms/${roomId}/token`, {
      as: owner,
      body: { capabilities: ["PUBLISH", "SUBSCRIBE"] },
    });
    expect(token.status, token.text).toBe(200);
    expect((await s.join(token.body.token)).status).toBe(200);
    await emulator("POST", "/_emulator/publish", { participantId: token.body.participantId });
    await eventsHandled();
    expect(sums(await publishedWith("LiveStateFunction", mark, "IvsEventsProcessed"), "IvsEventsProcessed")).toEqual({
      [key({})]: 1,
    });

    // The same on a stage made outside stagepass.
    const stage = (await s.ivs.send(new CreateStageCommand({ name: "metrics-outsider" }))).stage!;
    const outsider = (
      await s.ivs.send(
        new CreateParticipantTokenCommand({ stageArn: stage.arn!, userId: "outsider", capabilities: ["PUBLISH"] }),
      )
    ).participantToken!;
    expect((await s.join(outsider.token!)).status).toBe(200);
    await emulator("POST", "/_emulator/publish", { participantId: outsider.participantId });
    await eventsHandled();
    // And an "IVS Stage Update" the function cannot read (no stage in its resources).
    const malformed = await fetch(s.stack.eventBus.eventsUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        version: "0",
        id: randomUUID(),
        "detail-type": "IVS Stage Update",
        source: "aws.ivs",
        account: "123456789012",
        time: new Date().toISOString(),
        region: "us-east-1",
        resources: [],
        detail: {},
      }),
    });
    expect(malformed.status).toBe(200);
    await eventsHandled();
    const points = await publishedWith("LiveStateFunction", mark, "IvsEventsIgnored");
    await s.stack.eventBus.drained();
    expect(sums(published("LiveStateFunction", mark), "IvsEventsIgnored")).toEqual({
      [key({ reason: "unknown_stage" })]: 1,
      [key({ reason: "malformed" })]: 1,
    });
    expect(sums(points, "IvsEventsProcessed")).toEqual({ [key({})]: 1 });
  });

  it("GET /dev/metrics counts what the functions published, as stack.metrics does", async () => {
    const s = stack();
    const r = await s.api("GET", "/dev/metrics");
    expect(r.status).toBe(200);
    expect(r.body.metrics).toEqual(JSON.parse(JSON.stringify(s.stack.metrics.counts())));
    const count = (name: string, dimensions: Record<string, string>) =>
      (
        r.body.metrics as Array<{ name: string; dimensions: Record<string, string>; samples: number; sum: number }>
      ).find(
        (m) =>
          m.name === name &&
          JSON.stringify(m.dimensions) ===
            JSON.stringify(
              Object.fromEntries(
                Object.entries({ service: SERVICE, ...dimensions }).sort(([a], [b]) => a.localeCompare(b)),
              ),
            ),
      );
    const tokens = s.tokenMode === "api" ? 3 : 2;
    expect(count("TokensIssued", { mode: s.tokenMode })).toMatchObject({ samples: tokens, sum: tokens });
    expect(count("Refusals", { function_name: "TokenFunction", code: "banned" })).toMatchObject({ samples: 1, sum: 1 });
    expect(count("Kicks", {})).toMatchObject({ samples: 1, sum: 1 });
  });
});
