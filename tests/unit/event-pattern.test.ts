/** EventBridge event patterns as the offline event bus matches them (local/event-pattern.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchesPattern, validatePattern, type EventPattern } from "../../local/event-pattern.ts";

const STAGE = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl";

const published = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "IVS Stage Update",
  source: "aws.ivs",
  account: "123456789012",
  time: "2025-04-23T06:36:53Z",
  region: "us-east-1",
  resources: [STAGE],
  detail: {
    session_id: "st-1CVugbu2cf2n8",
    event_name: "Participant Published",
    event_time: "2025-04-23T06:36:53Z",
    user_id: "",
    participant_id: "03JY4smU3eXc",
    count: 5,
    flag: true,
    nothing: null,
    tracks: [{ kind: "audio" }, { kind: "video", width: 1280 }],
  },
};

const matches = (pattern: EventPattern, event: unknown = published) => {
  expect(validatePattern(pattern)).toEqual([]);
  return matchesPattern(pattern, event);
};

describe("matching", () => {
  it("exact values, case-sensitive, any of a list", () => {
    expect(matches({ source: ["aws.ivs"] })).toBe(true);
    expect(matches({ source: ["aws.ivs"], "detail-type": ["IVS Stage Update"] })).toBe(true);
    expect(matches({ source: ["AWS.IVS"] })).toBe(false);
    expect(matches({ source: ["aws.s3", "aws.ivs"] })).toBe(true);
    expect(matches({ source: ["aws.ivs"], "detail-type": ["IVS Stream State Change"] })).toBe(false);
  });

  it("nested detail fields, every one named must match", () => {
    expect(matches({ detail: { event_name: ["Participant Published", "Participant Unpublished"] } })).toBe(true);
    expect(matches({ detail: { event_name: ["Participant Published"], user_id: [""] } })).toBe(true);
    expect(matches({ detail: { event_name: ["Participant Published"], user_id: ["someone"] } })).toBe(false);
    expect(matches({ detail: { missing: ["x"] } })).toBe(false);
    expect(matches({ detail: { event_name: { deeper: ["x"] } } })).toBe(false);
  });

  it("an array in the event matches when any element does; arrays of objects element by element", () => {
    expect(matches({ resources: [STAGE] })).toBe(true);
    expect(matches({ resources: ["arn:aws:ivs:us-east-1:123456789012:stage/other"] })).toBe(false);
    expect(matches({ detail: { tracks: { kind: ["video"] } } })).toBe(true);
    expect(matches({ detail: { tracks: { kind: ["video"], width: [{ numeric: [">=", 1280] }] } } })).toBe(true);
    expect(matches({ detail: { tracks: { kind: ["audio"], width: [{ numeric: [">=", 1280] }] } } })).toBe(false);
  });

  it("numbers numerically, booleans and null exactly, never across types", () => {
    expect(matches({ detail: { count: [5] } })).toBe(true);
    expect(matches({ detail: { count: [5.0] } })).toBe(true);
    expect(matches({ detail: { count: ["5"] } })).toBe(false);
    expect(matches({ detail: { flag: [true] } })).toBe(true);
    expect(matches({ detail: { flag: ["true"] } })).toBe(false);
    expect(matches({ detail: { nothing: [null] } })).toBe(true);
    expect(matches({ detail: { user_id: [null] } })).toBe(false);
  });

  it("prefix, suffix, equals-ignore-case and wildcard", () => {
    expect(matches({ resources: [{ prefix: "arn:aws:ivs:us-east-1:123456789012:stage/" }] })).toBe(true);
    expect(matches({ resources: [{ prefix: "arn:aws:ivs:eu-west-1:" }] })).toBe(false);
    expect(matches({ detail: { session_id: [{ prefix: { "equals-ignore-case": "ST-" } }] } })).toBe(true);
    expect(matches({ detail: { event_name: [{ suffix: "Published" }] } })).toBe(true);
    expect(matches({ detail: { event_name: [{ suffix: { "equals-ignore-case": "PUBLISHED" } }] } })).toBe(true);
    expect(matches({ detail: { event_name: [{ "equals-ignore-case": "participant published" }] } })).toBe(true);
    expect(matches({ detail: { event_name: [{ wildcard: "Participant *" }] } })).toBe(true);
    expect(matches({ detail: { event_name: [{ wildcard: "*Error" }] } })).toBe(false);
    expect(matches({ detail: { count: [{ prefix: "5" }] } })).toBe(false);
  });

  it("anything-but a value, a list, a prefix; never a missing field", () => {
    expect(matches({ detail: { event_name: [{ "anything-but": "Participant Publish Error" }] } })).toBe(true);
    expect(matches({ detail: { event_name: [{ "anything-but": ["Participant Published", "x"] }] } })).toBe(false);
    expect(matches({ detail: { event_name: [{ "anything-but": { prefix: "Participant" } }] } })).toBe(false);
    expect(matches({ detail: { event_name: [{ "anything-but": { suffix: "Error" } }] } })).toBe(true);
    expect(
      matches({ detail: { event_name: [{ "anything-but": { "equals-ignore-case": ["participant published"] } }] } }),
    ).toBe(false);
    expect(matches({ detail: { count: [{ "anything-but": [4, 6] }] } })).toBe(true);
    expect(matches({ detail: { missing: [{ "anything-but": "x" }] } })).toBe(false);
  });

  it("numeric ranges", () => {
    expect(matches({ detail: { count: [{ numeric: [">", 0, "<=", 5] }] } })).toBe(true);
    expect(matches({ detail: { count: [{ numeric: ["<", 5] }] } })).toBe(false);
    expect(matches({ detail: { count: [{ numeric: ["=", 5] }] } })).toBe(true);
    expect(matches({ detail: { event_name: [{ numeric: [">", 0] }] } })).toBe(false);
  });

  it("exists, for present and missing fields (a missing parent too)", () => {
    expect(matches({ detail: { participant_id: [{ exists: true }] } })).toBe(true);
    expect(matches({ detail: { participant_id: [{ exists: false }] } })).toBe(false);
    expect(matches({ detail: { error_code: [{ exists: false }] } })).toBe(true);
    expect(matches({ detail: { error_code: [{ exists: true }] } })).toBe(false);
    expect(matches({ nowhere: { at_all: [{ exists: false }] } })).toBe(true);
    expect(matches({ detail: [{ exists: true }] })).toBe(false); // exists applies to leaves only
  });

  it("$or between alternatives", () => {
    const pattern: EventPattern = {
      source: ["aws.ivs"],
      $or: [
        { detail: { event_name: ["Participant Unpublished"] } },
        { detail: { participant_id: [{ prefix: "03JY" }] } },
      ],
    };
    expect(matches(pattern)).toBe(true);
    expect(matches(pattern, { ...published, detail: { ...published.detail, participant_id: "zz" } })).toBe(false);
  });

  it("a pattern made of an event's own values matches it; changing one of them does not", () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1 }).filter((k) => k !== "$or"),
          value,
          { minKeys: 1 },
        ),
        (detail) => {
          const event = { ...published, detail };
          const pattern = {
            source: ["aws.ivs"],
            detail: Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, [v]])),
          };
          expect(matches(pattern, event)).toBe(true);
          const [key, v] = Object.entries(detail)[0]!;
          const other =
            typeof v === "string" ? `${v}!` : typeof v === "number" ? v + 1 : typeof v === "boolean" ? !v : "not null";
          expect(matches(pattern, { ...event, detail: { ...detail, [key]: other } })).toBe(false);
        },
      ),
    );
  });
});

describe("validation", () => {
  it("refuses what EventBridge refuses", () => {
    const bad: unknown[] = [
      null,
      [],
      {},
      { source: "aws.ivs" },
      { source: [] },
      { source: [["aws.ivs"]] },
      { detail: {} },
      { source: [{ prefix: 3 }] },
      { source: [{ prefix: "a", suffix: "b" }] },
      { source: [{ regex: ".*" }] },
      { count: [{ numeric: [">"] }] },
      { count: [{ numeric: ["~", 1] }] },
      { count: [{ exists: "yes" }] },
      { count: [{ "anything-but": [] }] },
      { $or: [{ source: ["a"] }] },
      { $or: "x" },
    ];
    for (const pattern of bad) expect(validatePattern(pattern), JSON.stringify(pattern)).not.toEqual([]);
    expect(
      validatePattern({
        source: ["aws.ivs"],
        "detail-type": ["IVS Stage Update"],
        detail: { event_name: [{ prefix: "Participant" }] },
      }),
    ).toEqual([]);
  });
});
