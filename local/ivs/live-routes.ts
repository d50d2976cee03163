/**
 * Emulator-only routes for live stages (never part of AWS): the simulated client's leave / publish / unpublish /
 * exchange, and the controls of the events sent to EventBridge.
 *
 *   POST   /_emulator/leave | publish | unpublish   {"participantId", "stageArn"?}
 *   POST   /_emulator/exchange                      {"participantId", "token", "stageArn"?}  (the SDK's exchangeToken)
 *   GET    /_emulator/events                        what was sent, dropped, held; pending controls
 *   POST   /_emulator/events                        {"drop": n} | {"duplicate": n} | {"reorder": n}
 *   POST   /_emulator/events/flush                  release held (reordered) events now
 *   DELETE /_emulator/events                        clear the log, forget controls, release held events
 */
import type { EventOutbox } from "./events.ts";
import { parseDeliveryControl } from "./events.ts";
import type { ClientActionResult, ExchangeResult, IvsState } from "./state.ts";

export interface LiveRouteContext {
  state: IvsState;
  events: EventOutbox;
}

export interface RouteAnswer {
  status: number;
  body: unknown;
}

function clientAnswer(result: ClientActionResult): RouteAnswer {
  if (result.ok) return { status: 200, body: result.participant };
  const body: Record<string, unknown> = { message: result.message };
  if (result.stageError) body.stageError = result.stageError;
  return { status: result.status, body };
}

function exchangeAnswer(result: ExchangeResult): RouteAnswer {
  if (result.ok) return { status: 200, body: result.participant };
  return { status: result.status, body: { message: result.message, reason: result.reason } };
}

const field = (body: unknown, name: string): unknown =>
  typeof body === "object" && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)[name]
    : undefined;

/** The answer for a live-stage route, or undefined when the request is not one of them. */
export function handleLiveRoute(
  method: string,
  rawPath: string,
  body: () => unknown,
  ctx: LiveRouteContext,
): RouteAnswer | undefined {
  switch (`${method} ${rawPath}`) {
    case "POST /_emulator/leave":
    case "POST /_emulator/publish":
    case "POST /_emulator/unpublish": {
      const input = body();
      const participantId = field(input, "participantId");
      const stageArn = field(input, "stageArn");
      if (rawPath.endsWith("/leave")) return clientAnswer(ctx.state.leave(participantId, stageArn));
      if (rawPath.endsWith("/unpublish")) return clientAnswer(ctx.state.unpublish(participantId, stageArn));
      return clientAnswer(ctx.state.publish(participantId, stageArn));
    }
    case "POST /_emulator/exchange": {
      const input = body();
      return exchangeAnswer(
        ctx.state.exchange(field(input, "participantId"), field(input, "token"), field(input, "stageArn")),
      );
    }
    case "GET /_emulator/events":
      return { status: 200, body: ctx.events.log() };
    case "POST /_emulator/events": {
      const control = parseDeliveryControl(body());
      if (typeof control === "string") return { status: 400, body: { message: control } };
      ctx.events.addControl(control);
      return { status: 200, body: { controls: ctx.events.log().controls } };
    }
    case "POST /_emulator/events/flush":
      ctx.events.flush();
      return { status: 200, body: { controls: ctx.events.log().controls } };
    case "DELETE /_emulator/events":
      ctx.events.clearLog();
      ctx.events.clearControls();
      return { status: 200, body: { controls: [] } };
    default:
      return undefined;
  }
}
