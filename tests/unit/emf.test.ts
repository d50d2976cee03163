// The offline stack's reading of the functions' metrics (local/emf.ts): EMF documents told apart from log lines,
// read as CloudWatch reads them (each metric under each dimension set), counted for GET /dev/metrics; and which
// function lines the stack prints by default (local/stack.ts `printed`).
import { describe, expect, it } from "vitest";
import { datapointsOf, MetricCounter, parseEmf } from "../../local/emf.ts";
import { printed } from "../../local/stack.ts";
import { emfDocuments } from "../../shared/metrics.ts";

const latency = (operation: string, values: number[]) =>
  JSON.stringify(
    emfDocuments(
      {
        dimensions: { operation },
        rollup: true,
        metrics: new Map([["DynamoDbLatency", { unit: "Milliseconds", values }]]),
      },
      "stagepass-local",
      1_700_000_000_000,
    )[0],
  );

describe("parseEmf", () => {
  it("takes an EMF document, and leaves log lines and broken JSON alone", () => {
    expect(parseEmf(latency("Query", [1]))?._aws.CloudWatchMetrics).toHaveLength(1);
    expect(parseEmf('{"level":"INFO","message":"request","status":403}')).toBeUndefined();
    expect(parseEmf('{"_aws":{"Timestamp":1,"CloudWatchMetrics":[')).toBeUndefined();
    expect(parseEmf('{"_aws":{"CloudWatchMetrics":[]}}')).toBeUndefined();
    expect(parseEmf("plain text")).toBeUndefined();
  });
});

describe("datapointsOf", () => {
  it("every metric of a directive under every one of its dimension sets, single values and arrays alike", () => {
    expect(datapointsOf(parseEmf(latency("Query", [1.5, 2]))!)).toEqual([
      {
        namespace: "stagepass",
        name: "DynamoDbLatency",
        unit: "Milliseconds",
        dimensions: { service: "stagepass-local", operation: "Query" },
        values: [1.5, 2],
      },
      {
        namespace: "stagepass",
        name: "DynamoDbLatency",
        unit: "Milliseconds",
        dimensions: { service: "stagepass-local" },
        values: [1.5, 2],
      },
    ]);
  });
});

describe("MetricCounter", () => {
  it("counts samples, sum and maximum per metric and dimension values", () => {
    const counter = new MetricCounter();
    counter.add(parseEmf(latency("Query", [1, 2]))!);
    counter.add(parseEmf(latency("GetItem", [10]))!);
    counter.add(parseEmf(latency("Query", [3]))!);
    expect(counter.counts()).toEqual([
      {
        namespace: "stagepass",
        name: "DynamoDbLatency",
        unit: "Milliseconds",
        dimensions: { operation: "GetItem", service: "stagepass-local" },
        samples: 1,
        sum: 10,
        max: 10,
      },
      {
        namespace: "stagepass",
        name: "DynamoDbLatency",
        unit: "Milliseconds",
        dimensions: { operation: "Query", service: "stagepass-local" },
        samples: 3,
        sum: 6,
        max: 3,
      },
      {
        namespace: "stagepass",
        name: "DynamoDbLatency",
        unit: "Milliseconds",
        dimensions: { service: "stagepass-local" },
        samples: 4,
        sum: 16,
        max: 10,
      },
    ]);
  });
});

describe("what the offline stack prints of a function's output by default", () => {
  const emf = parseEmf(latency("Query", [1]));
  it("every log line; metric documents only at DEBUG (or TRACE)", () => {
    for (const level of ["DEBUG", "debug", "TRACE"]) expect(printed({ emf }, level), level).toBe(true);
    for (const level of ["INFO", "WARN", "ERROR", undefined]) {
      expect(printed({ emf }, level), String(level)).toBe(false);
      expect(printed({ emf: undefined }, level), String(level)).toBe(true);
    }
  });
});
