// The metrics the functions have published since the stack started (GET /dev/metrics): what CloudWatch would hold
// from their EMF documents, per metric and dimension values (docs/operations.md). Stack-wide: no metric names a room.
import { fill, h } from "./dom.ts";
import { call } from "./http.ts";
import { panel, table, type Panel } from "./panel.ts";
import { renderReply } from "./reply.ts";

interface MetricCount {
  namespace: string;
  name: string;
  unit: string;
  dimensions: Record<string, string>;
  samples: number;
  sum: number;
  max: number | null;
}

const round = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

export function metricsPanel(): Panel {
  return panel(
    "metrics",
    "Metrics",
    async (body) => {
      const reply = await call<{ metrics: MetricCount[] }>("GET", "/dev/metrics", { quiet: true });
      if (!reply.ok) return fill(body, renderReply(reply));
      // `service` is the same on every line (the stack's name); the summed-over-operations lines are the ones without.
      const rows = reply.body.metrics.map((m) => {
        const { service: _service, ...dimensions } = m.dimensions;
        const figures =
          m.unit === "Count"
            ? round(m.sum)
            : `${m.samples} × avg ${round(m.sum / m.samples)} max ${round(m.max ?? 0)} ms`;
        return [
          h("code", {}, m.name),
          Object.entries(dimensions)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ") || "—",
          figures,
        ];
      });
      fill(
        body,
        table(
          ["Metric", "Dimensions", "Count, or latency"],
          rows,
          "No metric yet: make a request.",
          reply.body.metrics.map((m) => ({ "data-metric": m.name })),
        ),
      );
    },
    {
      intro:
        "What the functions published since the stack started, as CloudWatch would count it " +
        "(GET /dev/metrics; docs/operations.md).",
    },
  );
}
