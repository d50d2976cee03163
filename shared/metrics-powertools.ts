// The metrics publisher of every function but the token function (shared/metrics.ts): Powertools for AWS Lambda's
// Metrics writes each group of an invocation's figures as one EMF document.
import { Metrics } from "@aws-lambda-powertools/metrics";
import { MAX_VALUES, NAMESPACE, type MetricGroup, type MetricsPublisher } from "./metrics.ts";

/**
 * Powertools Metrics: each group's dimensions and values, then `publishStoredMetrics()`, which writes one document
 * (the `service` dimension from POWERTOOLS_SERVICE_NAME; POWERTOOLS_METRICS_DISABLED and POWERTOOLS_DEV as
 * Powertools reads them). Built at the first publication, so that a container that never publishes never reads them.
 */
export function powertoolsPublisher(options: { create?: () => Metrics } = {}): MetricsPublisher {
  let metrics: Metrics | undefined;
  return {
    publish(groups) {
      metrics ??= options.create?.() ?? new Metrics({ namespace: NAMESPACE });
      for (const group of groups) {
        // At most MAX_VALUES values of a metric per document. (Powertools would publish at 100 on its own, but then
        // forget the dimensions for the rest.)
        for (let offset = 0; offset < longest(group); offset += MAX_VALUES) {
          for (const [name, value] of Object.entries(group.dimensions)) metrics.addDimension(name, value);
          // An empty dimension set: the default dimensions (service) alone.
          if (group.rollup) metrics.addDimensions({});
          for (const [name, metric] of group.metrics) {
            for (const value of metric.values.slice(offset, offset + MAX_VALUES))
              metrics.addMetric(name, metric.unit, value);
          }
          metrics.publishStoredMetrics();
        }
      }
    },
  };
}

const longest = (group: MetricGroup) => Math.max(0, ...[...group.metrics.values()].map((m) => m.values.length));
