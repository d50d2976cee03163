// `npm start`: the whole backend on this machine. One banner, then Ctrl-C stops everything (Java included).
import { JavaMissingError } from "./dynamodb.ts";
import { devEndpoints, startStack } from "./stack.ts";

const started = Date.now();
const port = Number(process.env.PORT || 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`\n  stagepass: PORT must be a port number (0-65535), not ${JSON.stringify(process.env.PORT)}\n`);
  process.exit(1);
}

try {
  const stack = await startStack({
    port,
    env: process.env,
    enforceIvsRates: process.env.IVS_ENFORCE_RATES === "1",
    // Every request, as API Gateway's access log has it; the functions log only refusals and failures at INFO.
    accessLog: (entry) => console.log(JSON.stringify({ access: entry })),
  });
  const e = devEndpoints(stack.info);
  const tokenMode = stack.environments.get("TokenFunction")?.TOKEN_MODE ?? "api";
  // The secret is printed: offline it is generated at every start, and a receiver needs it to verify.
  const webhooks = stack.info.webhookUrl
    ? `→ ${stack.info.webhookUrl}   secret ${stack.info.webhookSecret}\n               deliveries: ${e.webhooks}${process.env.QUEUE_DELAY_SCALE ? `   (retry waits × ${process.env.QUEUE_DELAY_SCALE})` : ""}`
    : "off (WEBHOOK_URL=http://127.0.0.1:4000/hook npm start sends them there)";
  console.log(`
  stagepass offline stack                                  (no AWS account needed)

  Console      ${e.console}   open it in a browser: rooms, tokens, a simulated client
  HTTP API     ${e.api}
               routes from template.yaml: ${stack.built.map((f) => f.definition.routes.length).reduce((a, b) => a + b, 0)}, CORS for ${stack.info.corsOrigins.join(", ")}
  Sign in      ${e.login}   {"username":"alice","groups":["admin"]}
  Info         ${e.info}
  Metrics      ${e.metrics}   (POWERTOOLS_LOG_LEVEL=DEBUG prints each EMF document too)
  Health       ${e.health}
  IVS emulator ${e.ivs}   (join: ${e.ivsJoin})
  Event bus    ${e.eventBus}   rules: ${stack.eventBus.rules().length}
  DynamoDB     ${e.dynamodb}   table ${stack.info.tableName}
  JWKS         ${e.jwks}
  Token mode   ${tokenMode}
  Webhooks     ${webhooks}

  ready in ${((Date.now() - started) / 1000).toFixed(1)} s — Ctrl-C to stop
`);
  // EventBridge runs a new schedule within its first period; here the live rooms' watch starts at once, so that a
  // join is seen within seconds of the start too (docs/live-rooms.md, "The watch"), then every minute as in AWS.
  const watch = stack.schedules.list().find((s) => s.name === "LiveStateFunction.WatchLiveRooms");
  if (watch?.enabled)
    void stack.schedules.run(watch.name).catch((error: unknown) => console.error(`schedule ${watch.name}:`, error));
  let stopping = false;
  let stoppingSince = 0;
  const stop = async (signal: string) => {
    // A second Ctrl-C does not wait: exit now (DynamoDB Local is killed by its exit hook, or already stopping).
    // The same Ctrl-C can arrive twice at once (the terminal signals the whole process group, and tsx relays it
    // again), so only one that comes a second or more after the first counts as a second press.
    if (stopping) {
      if (Date.now() - stoppingSince >= 1_000) process.exit(130);
      return;
    }
    stopping = true;
    stoppingSince = Date.now();
    console.log(`\n  ${signal}: stopping the offline stack...`);
    await stack.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(`\n  stagepass: cannot start the offline stack.\n\n  ${error.message.replace(/\n/g, "\n  ")}\n`);
  } else if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
    console.error(`\n  stagepass: port ${port} is in use. Start on another one with PORT=3001 npm start\n`);
  } else {
    console.error("\n  stagepass: the offline stack failed to start:", error);
  }
  process.exit(1);
}
