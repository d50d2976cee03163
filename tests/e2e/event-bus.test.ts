/**
 * The offline stack's event bus: a function that template.yaml subscribes with an EventBridgeRule event source is
 * invoked with the IVS emulator's events. No stagepass function subscribes yet, so this suite adds a rule to the
 * health function in a copy of the template, whose Input is a GET /health request (so that the function answers it
 * as it would in AWS): what matters here is that it is invoked, once per matching event.
 */
import { readFileSync } from "node:fs";
import { CreateParticipantTokenCommand, CreateStageCommand } from "@aws-sdk/client-ivs-realtime";
import { describe, expect, it } from "vitest";
import { loadTemplate } from "../../local/template.ts";
import { useStack } from "../support/stack.ts";

const template = loadTemplate();
const health = template.Resources.HealthFunction!.Properties as { Events: Record<string, unknown> };
health.Events.StageUpdates = {
  Type: "EventBridgeRule",
  Properties: {
    Pattern: {
      source: ["aws.ivs"],
      "detail-type": ["IVS Stage Update"],
      detail: { event_name: ["Participant Published"] },
    },
    Input: readFileSync(new URL("../../events/health-get-200.json", import.meta.url), "utf8"),
  },
};

const stack = useStack({ template });

describe("the offline stack's event bus", () => {
  it("is listed in /dev/info with the template's rules", async () => {
    const s = stack();
    const info = (await s.api("GET", "/dev/info")).body;
    expect(info.eventBusEndpoint).toBe(s.stack.eventBus.endpoint);
    const listed = (await (await fetch(`${info.eventBusEndpoint}/events`)).json()) as { rules: unknown[] };
    expect(listed.rules).toEqual([
      {
        name: "HealthFunction.StageUpdates",
        eventBusName: "default",
        enabled: true,
        pattern: {
          source: ["aws.ivs"],
          "detail-type": ["IVS Stage Update"],
          detail: { event_name: ["Participant Published"] },
        },
        target: "HealthFunction",
      },
    ]);
  });

  it("invokes the subscribed function for the emulator's matching events only", async () => {
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
    expect(s.stack.eventBus.deliveries()).toEqual([
      {
        rule: "HealthFunction.StageUpdates",
        target: "HealthFunction",
        eventId: sent[0]!.id,
        attempts: 1,
        status: "delivered",
      },
    ]);
  });
});
