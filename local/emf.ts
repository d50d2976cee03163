// The functions' metrics, offline: the embedded metric format (EMF) documents they write on stdout, read as
// CloudWatch reads them (every metric of a directive under every dimension set), and counted per metric and
// dimension values for `GET /dev/metrics`.

export interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string; Unit?: string; StorageResolution?: number }>;
}

export interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: EmfDirective[] };
  [member: string]: unknown;
}

/** One metric under one set of dimension values, with its values from one document. */
export interface EmfDatapoint {
  namespace: string;
  name: string;
  unit: string;
  dimensions: Record<string, string>;
  values: number[];
}

/** The line as an EMF document, or undefined when it is not one (a log line). */
export function parseEmf(line: string): EmfDocument | undefined {
  if (!line.startsWith('{"_aws":')) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch {
    return undefined;
  }
  const aws = (document as { _aws?: { Timestamp?: unknown; CloudWatchMetrics?: unknown } })._aws;
  if (typeof aws?.Timestamp !== "number" || !Array.isArray(aws.CloudWatchMetrics)) return undefined;
  return document as EmfDocument;
}

/** What CloudWatch records from a document: each directive's metrics under each of its dimension sets. */
export function datapointsOf(document: EmfDocument): EmfDatapoint[] {
  const points: EmfDatapoint[] = [];
  for (const directive of document._aws.CloudWatchMetrics) {
    for (const set of directive.Dimensions) {
      const dimensions: Record<string, string> = {};
      for (const name of set) dimensions[name] = String(document[name]);
      for (const metric of directive.Metrics) {
        const raw = document[metric.Name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === "number");
        points.push({
          namespace: directive.Namespace,
          name: metric.Name,
          unit: metric.Unit ?? "None",
          dimensions,
          values,
        });
      }
    }
  }
  return points;
}

export interface MetricCount {
  namespace: string;
  name: string;
  unit: string;
  dimensions: Record<string, string>;
  /** How many values were recorded (CloudWatch's SampleCount). */
  samples: number;
  sum: number;
  max: number;
}

/** Every metric the functions wrote since the stack started, per dimension values. */
export class MetricCounter {
  #counts = new Map<string, MetricCount>();

  add(document: EmfDocument): void {
    for (const point of datapointsOf(document)) {
      const dimensions = Object.fromEntries(Object.entries(point.dimensions).sort(([a], [b]) => a.localeCompare(b)));
      const key = JSON.stringify([point.namespace, point.name, dimensions]);
      let count = this.#counts.get(key);
      if (!count)
        this.#counts.set(
          key,
          (count = {
            namespace: point.namespace,
            name: point.name,
            unit: point.unit,
            dimensions,
            samples: 0,
            sum: 0,
            max: -Infinity,
          }),
        );
      for (const value of point.values) {
        count.samples += 1;
        count.sum += value;
        count.max = Math.max(count.max, value);
      }
    }
  }

  /** The counts, by metric name and then dimension values. */
  counts(): MetricCount[] {
    return [...this.#counts.values()]
      .map((c) => ({ ...c, dimensions: { ...c.dimensions } }))
      .sort(
        (a, b) =>
          a.name.localeCompare(b.name) || JSON.stringify(a.dimensions).localeCompare(JSON.stringify(b.dimensions)),
      );
  }
}
