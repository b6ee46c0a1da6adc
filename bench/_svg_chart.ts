/**
 * A line chart as SVG text (no dependency): one line per series, points marked, linear axes from
 * zero with round ticks, a legend under the plot. Used by `bench/scale.ts` for its charts.
 *
 * @module
 */

/** One line of a chart: `[x, y]` points (missing values are left out). */
export interface Series {
  name: string;
  points: Array<[number, number]>;
  /** A CSS colour (default: one of a fixed palette, by position). */
  color?: string;
  /** Draw dashed (e.g. for a baseline). */
  dashed?: boolean;
}

/** What to draw. */
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Formats a tick value of the x axis (default: `1k`, `20k`...). */
  xFormat?: (x: number) => string;
}

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];

/** A step of 1, 2 or 5 × 10^n giving about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function compact(x: number): string {
  if (x >= 1000 && x % 1000 === 0) return `${x / 1000}k`;
  if (x >= 1000) return `${(x / 1000).toFixed(1)}k`;
  return Number.isInteger(x) ? String(x) : x.toPrecision(3).replace(/\.?0+$/, "");
}

/** Renders `chart` as a standalone SVG document. */
export function lineChart(chart: Chart): string {
  const W = 640, H = 400;
  const left = 70, right = 20, top = 40;
  const legendRows = Math.ceil(chart.series.length / 2);
  const bottom = 60 + legendRows * 18;
  const plotW = W - left - right, plotH = H - top - bottom;
  const all = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = Math.max(1e-9, ...all.map(([, y]) => y));
  const xStep = niceStep(maxX, 5), yStep = niceStep(maxY, 5);
  const xTop = Math.ceil(maxX / xStep) * xStep, yTop = Math.ceil(maxY / yStep) * yStep;
  const px = (x: number) => left + (x / xTop) * plotW;
  const py = (y: number) => top + plotH - (y / yTop) * plotH;
  const xFormat = chart.xFormat ?? compact;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
  );
  for (let y = 0; y <= yTop + yStep / 2; y += yStep) {
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${compact(y)}</text>`,
    );
  }
  for (let x = 0; x <= xTop + xStep / 2; x += xStep) {
    out.push(
      `<line x1="${px(x).toFixed(1)}" x2="${px(x).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#eee"/>`,
      `<text x="${px(x).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${escape(xFormat(x))}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${
      escape(chart.yLabel)
    }</text>`,
  );
  chart.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    if (pts.length > 1) {
      const d = pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
      out.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    }
    for (const [x, y] of pts) {
      out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${color}"/>`);
    }
    const lx = left + (i % 2) * (plotW / 2), ly = top + plotH + 52 + Math.floor(i / 2) * 18;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}">${escape(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
