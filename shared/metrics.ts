// CloudWatch metrics in the embedded metric format (one log line each), through Powertools; namespace "stagepass",
// dimension `service`. Nothing personal goes in a metric or its dimensions.
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

const metrics = new Metrics({
  namespace: "stagepass",
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "stagepass",
});

/** Adds `value` to the count `name`, published at once (these counts are rare: failures). */
export function count(name: string, value: number): void {
  metrics.addMetric(name, MetricUnit.Count, value);
  metrics.publishStoredMetrics();
}
