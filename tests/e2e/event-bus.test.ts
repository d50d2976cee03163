/**
 * The offline stack's event bus, through the stack: the rules come from template.yaml's EventBridgeRule event sources
 * (LiveStateFunction's, every IVS Stage Update of the account), and the IVS emulator's events reach the subscribed
 * function, each once. How the bus matches patterns, retries, and honours Input/InputPath:
 * tests/integration/event-bus.test.ts.
 */
import { CreateParticipantTokenCommand, CreateStageCommand } from "@aws-sdk/client-ivs-realtime";
import { describe, expect, it } from "vitest";
import { useStack } from "../support/stack.ts";

const stack = useStack();

describe("the offline stack's event bus", () => {
  it("is listed in /dev/info with the template's rules", async () => {
    const s = stack();
    const info = (await s.api("GET", "/dev/info")).body;
    expect(info.eventBusEndpoint).toBe(s.stack.eventBus.endpoint);
    const listed = (await (await fetch(`${info.eventBusEndpoint}/events`)).json()) as { rules: unknown[] };
    expect(listed.rules).toEqual([
      {
        name: "LiveStateFunction.StageUpdates",
        eventBusName: "default",
        enabled: true,
        pattern: { source: ["aws.ivs"], "detail-type": ["IVS Stage Update"], account: ["123456789012"] },
        target: "LiveStateFunction",
      },
    ]);
  });

  it("invokes the subscribed function once for each of the emulator's events", async () => {
    const s = stack();
    const stageArn = (await s.ivs.send(new CreateStageCommand({}))).stage!.arn!;
    const { token, participantId } = (await s.ivs.send(new CreateParticipantTokenCommand({ stageArn })))
      .participantToken!;
    expect((await s.join(token!)).status).toBe(200);
    const act = (route: string) =>
      fetch(`${s.stack.ivs.url}/_emulator/${route}`, { method: "POST", body: JSON.stringify({ participantId }) });
    expect((await act("publish")).status).toBe(200);
    expect((await act("unpublish")).status).toBe(200);
    await s.stack.ivs.eventsSettled();
    await s.stack.eventBus.drained();

    const sent = s.stack.ivs.sentEvents().filter((e) => e.resources[0] === stageArn);
    expect(sent.map((e) => e.detail.event_name)).toEqual(["Participant Published", "Participant Unpublished"]);
    const ofStage = s.stack.eventBus.deliveries().filter((d) => sent.some((e) => e.id === d.eventId));
    expect(ofStage).toEqual(
      sent.map((e) => ({
        rule: "LiveStateFunction.StageUpdates",
        target: "LiveStateFunction",
        eventId: e.id,
        attempts: 1,
        status: "delivered",
      })),
    );
  });
});
