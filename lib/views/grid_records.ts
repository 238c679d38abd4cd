/** Diversity grid data as table rows, for a notebook's tables. @module */
import type { DiversityGridData } from "../figures/diversity_grid.ts";
import { metricDirection } from "../metrics/registry.ts";
import { formatFixed, formatNumber } from "../numeric/number_format.ts";

/**
 * Grid data as table rows: one per (metric, column, line) with "mean ± 2·SE" per temperature (columns
 * `T=<t>`), and `less diverse` = at how many temperatures the mean points towards less diversity (for
 * difference/effect grids: Δ > 0 for similarity metrics, Δ < 0 for diversity metrics).
 */
export function gridRecords(
  data: DiversityGridData,
  opts: { effect?: boolean; digits?: number } = {},
): Record<string, string | number>[] {
  const d = opts.digits ?? 3;
  const f = (x: number) => formatFixed(x, d);
  const rows: Record<string, string | number>[] = [];
  for (const p of data.panels) {
    for (const l of p.lines) {
      const row: Record<string, string | number> = {
        metric: p.metric,
        column: data.columns[p.column].title,
        line: l.model,
      };
      for (const pt of l.points) row[`T=${formatNumber(pt.temperature)}`] = `${f(pt.mean)} ± ${f(2 * pt.se)}`;
      if (opts.effect) {
        const dir = metricDirection(p.metric);
        const less = l.points.filter((pt) =>
          Number.isFinite(pt.mean) && pt.mean !== 0 && (dir === "similarity") === (pt.mean > 0)
        ).length;
        row["less diverse at"] = `${less}/${l.points.length} T`;
      }
      rows.push(row);
    }
  }
  return rows;
}
