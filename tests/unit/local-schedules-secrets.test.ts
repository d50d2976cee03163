/**
 * Two things the offline stack reads from template.yaml for webhooks: Schedule event sources (local/template.ts) and
 * a secret's GenerateSecretString (local/secrets.ts), generated as CloudFormation generates it at deploy.
 */
import { describe, expect, it } from "vitest";
import { functionsOf, parseTemplate, rateMs } from "../../local/template.ts";
import { generateSecretString } from "../../local/secrets.ts";

const withEvents = (events: string) =>
  parseTemplate(`
Resources:
  Sweeper:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Events:
${events}
    Metadata:
      BuildProperties:
        EntryPoints: [functions/sweeper/index.ts]
`);

describe("Schedule event sources", () => {
  it("are read with their expression, state (unresolved) and input", () => {
    const [fn] = functionsOf(
      withEvents(`
        Every5:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
            State: !If [On, ENABLED, DISABLED]
        Off:
          Type: Schedule
          Properties: { Schedule: rate(1 hour), Enabled: false, Input: '{"a":1}' }`),
    );
    expect(fn!.schedules).toEqual([
      { eventName: "Every5", schedule: "rate(5 minutes)", state: { "Fn::If": ["On", "ENABLED", "DISABLED"] } },
      { eventName: "Off", schedule: "rate(1 hour)", state: "DISABLED", input: '{"a":1}' },
    ]);
  });

  it("refuse a property the offline stack does not know, and a missing expression", () => {
    expect(() =>
      functionsOf(
        withEvents(`
        Bad:
          Type: Schedule
          Properties: { Schedule: rate(1 day), FlexibleTimeWindow: { Mode: "OFF" } }`),
      ),
    ).toThrow(/Sweeper\.Bad: Schedule FlexibleTimeWindow/);
    expect(() =>
      functionsOf(
        withEvents(`
        Bad:
          Type: Schedule
          Properties: { State: ENABLED }`),
      ),
    ).toThrow(/needs a Schedule expression/);
  });

  it("rate(...) in milliseconds; cron and malformed rates are not run offline", () => {
    expect(rateMs("rate(5 minutes)")).toBe(300_000);
    expect(rateMs("rate(1 minute)")).toBe(60_000);
    expect(rateMs("rate(2 hours)")).toBe(7_200_000);
    expect(rateMs("rate(1 day)")).toBe(86_400_000);
    expect(rateMs("rate(0 minutes)")).toBeUndefined();
    expect(rateMs("cron(0 12 * * ? *)")).toBeUndefined();
  });
});

describe("GenerateSecretString", () => {
  it("the webhook secret's spec: 48 letters and digits, which decode as base64 to 36 bytes", () => {
    const values = Array.from({ length: 50 }, () =>
      generateSecretString({ PasswordLength: 48, ExcludePunctuation: true }),
    );
    for (const v of values) {
      expect(v).toMatch(/^[A-Za-z0-9]{48}$/);
      // One of each class, as Secrets Manager's RequireEachIncludedType default asks.
      expect(v).toMatch(/[a-z]/);
      expect(v).toMatch(/[A-Z]/);
      expect(v).toMatch(/[0-9]/);
      expect(Buffer.from(v, "base64")).toHaveLength(36);
    }
    expect(new Set(values).size).toBe(values.length);
  });

  it("32 characters by default, punctuation included; exclusions honoured; the template's JSON when asked", () => {
    expect(generateSecretString({})).toHaveLength(32);
    for (let i = 0; i < 20; i++)
      expect(
        generateSecretString({ ExcludeCharacters: "abcdefghijklmnopqrstuvwxyz", ExcludeNumbers: true }),
      ).not.toMatch(/[a-z0-9]/);
    const json = JSON.parse(
      generateSecretString({ SecretStringTemplate: '{"user":"x"}', GenerateStringKey: "password", PasswordLength: 12 }),
    );
    expect(json.user).toBe("x");
    expect(json.password).toHaveLength(12);
  });
});
