// `bench --report FILE.html`: one self-contained page (inline SVG and CSS, no script, no CDN)
// with the ack-latency percentile plot of every run and throughput against CPU across the sweep.

import type { BenchReport, BenchRun } from './bench.js';

const W = 640;
const H = 320;
const PAD = { l: 64, r: 20, t: 16, b: 44 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const label = (r: BenchRun): string =>
  r.rate === null ? 'catch-up (max)' : `${r.rate.toLocaleString('en-US')} lines/s`;

/** HDR-style x position of a percentile: 0 -> 0, 90 -> 1, 99 -> 2, 99.9 -> 3, 99.99 -> 4. */
const nines = (p: number): number => (p >= 100 ? 4.3 : Math.min(4.3, -Math.log10(1 - p / 100)));

function axes(
  xTicks: [number, string][],
  yTicks: [number, string][],
  xLabel: string,
  yLabel: string,
): string {
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  let s = `<rect x="${PAD.l}" y="${PAD.t}" width="${pw}" height="${ph}" fill="none" stroke="#ccc"/>`;
  for (const [y, t] of yTicks) {
    s += `<line x1="${PAD.l}" x2="${PAD.l + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`;
    s += `<text x="${PAD.l - 6}" y="${y + 4}" text-anchor="end">${esc(t)}</text>`;
  }
  for (const [x, t] of xTicks) {
    s += `<line x1="${x}" x2="${x}" y1="${PAD.t}" y2="${PAD.t + ph}" stroke="#eee"/>`;
    s += `<text x="${x}" y="${PAD.t + ph + 16}" text-anchor="middle">${esc(t)}</text>`;
  }
  s += `<text x="${PAD.l + pw / 2}" y="${H - 6}" text-anchor="middle" class="axis">${esc(xLabel)}</text>`;
  s += `<text transform="translate(14 ${PAD.t + ph / 2}) rotate(-90)" text-anchor="middle" class="axis">${esc(yLabel)}</text>`;
  return s;
}

/** Latency (log scale) against percentile (HDR "nines" scale), one line per run. */
function percentilePlot(runs: BenchRun[]): string {
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  const values = runs.flatMap((r) => r.ack_curve.map(([, v]) => v)).filter((v) => v > 0);
  if (values.length === 0) return '<p>No latency was recorded.</p>';
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const x = (p: number) => PAD.l + (pw * nines(p)) / 4.3;
  const y = (v: number) => PAD.t + ph - (ph * (Math.log10(Math.max(v, 10 ** lo)) - lo)) / (hi - lo);
  const yTicks: [number, string][] = [];
  for (let e = lo; e <= hi; e++)
    yTicks.push([y(10 ** e), `${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)} ms`]);
  const xTicks: [number, string][] = [
    [x(0), '0%'],
    [x(90), '90%'],
    [x(99), '99%'],
    [x(99.9), '99.9%'],
    [x(99.99), '99.99%'],
  ];
  let s = axes(xTicks, yTicks, 'percentile', 'ingest -> sink ack (ms, log scale)');
  runs.forEach((r, i) => {
    const pts = r.ack_curve
      .filter(([, v]) => v > 0)
      .map(([p, v]) => `${x(p).toFixed(1)},${y(v).toFixed(1)}`);
    const c = COLORS[i % COLORS.length];
    s += `<polyline points="${pts.join(' ')}" fill="none" stroke="${c}" stroke-width="2"/>`;
    s += `<text x="${PAD.l + 8}" y="${PAD.t + 16 + i * 15}" style="fill:${c}">${esc(label(r))}</text>`;
  });
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${s}</svg>`;
}

/** CPU % of one core against the throughput reached, one point per sweep step. */
function cpuPlot(runs: BenchRun[]): string {
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  const maxX = niceMax(Math.max(...runs.map((r) => r.lines_per_s), 100_000));
  const maxY = niceMax(Math.max(...runs.map((r) => r.cpu_percent), 25));
  const x = (v: number) => PAD.l + (pw * v) / maxX;
  const y = (v: number) => PAD.t + ph - (ph * v) / maxY;
  const xTicks: [number, string][] = [0, 0.25, 0.5, 0.75, 1].map((f) => [
    x(maxX * f),
    fmtRate(maxX * f),
  ]);
  const yTicks: [number, string][] = [0, 0.25, 0.5, 0.75, 1].map((f) => [
    y(maxY * f),
    `${(maxY * f).toFixed(0)}%`,
  ]);
  let s = axes(xTicks, yTicks, 'lines/s reached', 'CPU, % of one core');
  // The design target (DESIGN.md): at most 25% of one core at 100K lines/s.
  s += `<circle cx="${x(100_000)}" cy="${y(25)}" r="5" fill="none" stroke="#d62728" stroke-dasharray="3 2"/>`;
  s += `<text x="${x(100_000) + 8}" y="${y(25) - 6}" style="fill:#d62728">target: 25% at 100K lines/s</text>`;
  const sorted = [...runs].sort((a, b) => a.lines_per_s - b.lines_per_s);
  s += `<polyline points="${sorted.map((r) => `${x(r.lines_per_s).toFixed(1)},${y(r.cpu_percent).toFixed(1)}`).join(' ')}" fill="none" stroke="#1f77b4" stroke-width="2"/>`;
  for (const r of sorted) {
    s += `<circle cx="${x(r.lines_per_s).toFixed(1)}" cy="${y(r.cpu_percent).toFixed(1)}" r="3.5" fill="#1f77b4"><title>${esc(label(r))}: ${r.lines_per_s} lines/s, ${r.cpu_percent}% CPU</title></circle>`;
  }
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${s}</svg>`;
}

/** An axis top above v made of 4 round steps (1, 2, 2.5 or 5 x a power of ten each). */
function niceMax(v: number): number {
  const q = v / 4;
  const p = 10 ** Math.floor(Math.log10(q));
  return 4 * ([1, 2, 2.5, 5].find((k) => q / p <= k) ?? 10) * p;
}

const fmtRate = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : n.toFixed(0);

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');

function table(runs: BenchRun[]): string {
  const rows = runs
    .map(
      (r) =>
        `<tr><td>${esc(label(r))}</td><td>${r.lines_per_s.toLocaleString('en-US')}</td><td>${r.mb_per_s}</td>` +
        `<td>${r.cpu_percent}%</td><td>${r.cpu_us_per_line}</td><td>${r.rss_mb}</td>` +
        `<td>${ms(r.latency_ms.handoff.p50)} / ${ms(r.latency_ms.handoff.p99)}</td>` +
        `<td>${ms(r.latency_ms.ack.p50)} / ${ms(r.latency_ms.ack.p95)} / ${ms(r.latency_ms.ack.p99)}</td>` +
        `<td>${r.complete ? 'yes' : 'no'}</td></tr>`,
    )
    .join('');
  return (
    '<table><thead><tr><th>run</th><th>lines/s</th><th>MB/s</th><th>CPU</th><th>µs/line</th><th>RSS MB</th>' +
    '<th>handoff p50 / p99 ms</th><th>ack p50 / p95 / p99 ms</th><th>all delivered</th></tr></thead>' +
    `<tbody>${rows}</tbody></table>`
  );
}

export function renderBenchReport(r: BenchReport): string {
  const runs = [r as BenchRun, ...(r.sweep ?? [])];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ves-log-collector bench report</title>
<!-- Generated by \`ves-log-collector bench --report\`: do not edit. -->
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 980px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 16px; margin-top: 28px; }
.meta { color: #555; } svg { font-size: 11px; background: #fff; } svg text { fill: #555; } svg .axis { fill: #222; }
table { border-collapse: collapse; margin-top: 8px; } td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; }
</style></head><body>
<h1>ves-log-collector bench</h1>
<p class="meta">${esc(r.machine)}<br>parser <b>${esc(r.parser)}</b>, sink <b>${esc(r.sink)}</b>, encoding ${esc(r.encoding)},
batch ${r.batch_size}; peak RSS ${r.peak_rss_mb} MB</p>
<h2>Ingest -> sink acknowledgement latency, by percentile</h2>
${percentilePlot(runs)}
<h2>Throughput against CPU, across a sweep of rates</h2>
${r.sweep ? cpuPlot(r.sweep) : '<p>No sweep was run.</p>'}
<h2>Runs</h2>
${table(runs)}
</body></html>
`;
}
