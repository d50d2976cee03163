/** EventBridgeRule event sources as local/template.ts reads them from a SAM template. */
import { describe, expect, it } from "vitest";
import { functionsOf, parseTemplate } from "../../local/template.ts";

const template = (events: string, extra = "") =>
  parseTemplate(`
Transform: AWS::Serverless-2016-10-31
Resources:
  Presence:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
${extra}
      Events:
${events}
    Metadata:
      BuildProperties:
        EntryPoints: [functions/presence/index.ts]
`);

describe("EventBridgeRule event sources", () => {
  it("are read with their pattern, bus, state and input, and the function's async retries", () => {
    const [fn] = functionsOf(
      template(
        `
        StageUpdates:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.ivs]
              detail-type: [IVS Stage Update]
              detail:
                event_name: [Participant Published, Participant Unpublished]
            RetryPolicy: { MaximumRetryAttempts: 5 }
        Paused:
          Type: EventBridgeRule
          Properties:
            Pattern: { source: [aws.ivs] }
            EventBusName: !Ref AppBus
            State: DISABLED
            InputPath: $.detail
        Poke:
          Type: EventBridgeRule
          Properties:
            Pattern: { source: [aws.ivs] }
            Input: '{"poke": true}'`,
        `      EventInvokeConfig: { MaximumRetryAttempts: 1 }`,
      ),
    );
    expect(fn!.eventRules).toEqual([
      {
        eventName: "StageUpdates",
        pattern: {
          source: ["aws.ivs"],
          "detail-type": ["IVS Stage Update"],
          detail: { event_name: ["Participant Published", "Participant Unpublished"] },
        },
        eventBusName: "default",
        enabled: true,
      },
      {
        eventName: "Paused",
        pattern: { source: ["aws.ivs"] },
        eventBusName: { Ref: "AppBus" },
        enabled: false,
        inputPath: "$.detail",
      },
      {
        eventName: "Poke",
        pattern: { source: ["aws.ivs"] },
        eventBusName: "default",
        enabled: true,
        input: '{"poke": true}',
      },
    ]);
    expect(fn!.maximumRetryAttempts).toBe(1);
    expect(fn!.routes).toEqual([]);
    expect(fn!.queues).toEqual([]);
  });

  it("default to Lambda's two retries and no rules", () => {
    const [fn] = functionsOf(template(`        Api: { Type: HttpApi, Properties: { Method: get, Path: /x } }`));
    expect(fn!.eventRules).toEqual([]);
    expect(fn!.maximumRetryAttempts).toBe(2);
  });

  it("refuse what the offline stack cannot honour", () => {
    expect(() =>
      functionsOf(template(`        R: { Type: EventBridgeRule, Properties: { EventBusName: default } }`)),
    ).toThrow(/Presence\.R: EventBridgeRule needs a Pattern/);
    expect(() =>
      functionsOf(
        template(
          `        R: { Type: EventBridgeRule, Properties: { Pattern: { source: [x] }, InputTransformer: { InputTemplate: "x" } } }`,
        ),
      ),
    ).toThrow(/InputTransformer is not supported/);
  });
});
