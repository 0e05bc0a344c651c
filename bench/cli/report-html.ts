// Owns the HTML report: one self-contained file (Chart.js inlined, no network) with the summary table and the charts.
// Must never load anything from a CDN or another file: a report is mailed, archived in CI, opened offline.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { decodeHist } from './result.js'
import type { ResultFile } from './result.js'
import { describe, fmtValue, orderedMetrics } from './report-md.js'

let chartJs: string | null = null
/** Chart.js's UMD build, read once from the installed package (a dependency: the CLI ships in the package). */
function chartSource(): string {
  if (chartJs === null) {
    const main = createRequire(import.meta.url).resolve('chart.js') // …/chart.js/dist/chart.cjs
    chartJs = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8')
  }
  return chartJs
}

/** Percentiles of the latency curve: x = "what share of samples is at most y". */
const CURVE = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]

export interface ChartData {
  name: string; title: string; kind: 'line'
  labels: Array<string | number>
  series: Array<{ label: string; data: number[]; axis: 'y' | 'y2' }>
  xTitle: string; yTitle: string; y2Title?: string
}

/** The charts a result supports: latency curve (if latency), throughput and p99 over time, delivered vs subscribers (ramps). */
export function chartsOf(r: ResultFile): ChartData[] {
  const run = r.runs[0]
  const charts: ChartData[] = []
  const lat = r.runs.map((x) => x.histograms.latency).filter(Boolean)
  if (lat.length > 0) {
    const h = decodeHist(lat[0])
    if (h.totalCount > 0) {
      charts.push({
        name: 'latency', title: 'Latency by percentile', kind: 'line', labels: CURVE.map((p) => (p === 100 ? 'max' : `p${p}`)),
        series: r.runs.map((x, k) => {
          const hk = x.histograms.latency ? decodeHist(x.histograms.latency) : h
          return { label: r.runs.length > 1 ? `run ${k + 1}` : 'latency', data: CURVE.map((p) => (p === 100 ? hk.maxValue : hk.getValueAtPercentile(p)) / 1000), axis: 'y' as const }
        }),
        xTitle: 'percentile', yTitle: 'ms',
      })
    }
  }
  const ts = run?.timeseries ?? []
  if (ts.length > 0) {
    charts.push({
      name: 'throughput', title: 'Throughput and p99 over time', kind: 'line', labels: ts.map((s) => s.t),
      series: [{ label: 'updates/s', data: ts.map((s) => s.updatesPerSec), axis: 'y' }, { label: 'p99 ms', data: ts.map((s) => s.p99Ms), axis: 'y2' }],
      xTitle: 'seconds', yTitle: 'updates/s', y2Title: 'p99 ms',
    })
    charts.push({
      name: 'connections', title: 'Connections and errors over time', kind: 'line', labels: ts.map((s) => s.t),
      series: [{ label: 'connections', data: ts.map((s) => s.connections), axis: 'y' }, { label: 'errors (total)', data: ts.map((s) => s.errors), axis: 'y2' }],
      xTitle: 'seconds', yTitle: 'connections', y2Title: 'errors',
    })
  }
  const ramp = run?.ramp
  if (ramp && ramp.length > 0) {
    charts.push({
      name: 'ramp', title: 'Delivered updates/s vs subscribers', kind: 'line', labels: ramp.map((s) => s.subscribers),
      series: [{ label: 'delivered updates/s', data: ramp.map((s) => s.updatesPerSec), axis: 'y' }, { label: 'p99 ms', data: ramp.map((s) => s.p99Ms), axis: 'y2' }],
      xTitle: 'subscribers', yTitle: 'updates/s', y2Title: 'p99 ms',
    })
  }
  for (const [k, x] of (run?.extraSeries ?? []).entries()) {
    charts.push({
      name: `series-${k}`, title: `${x.name} over time`, kind: 'line', labels: x.points.map((p) => p[0]),
      series: [{ label: `${x.name} (${x.unit})`, data: x.points.map((p) => p[1]), axis: 'y' }], xTitle: 'seconds', yTitle: x.unit,
    })
  }
  return charts
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
/** JSON inside <script>: `</` cannot end the element early */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c')

const DRAW = `
const charts = JSON.parse(document.getElementById('chart-data').textContent);
const colors = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989'];
let drawn = 0;
for (const c of charts) {
  const scales = { x: { title: { display: true, text: c.xTitle } }, y: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: c.yTitle } } };
  if (c.y2Title) scales.y2 = { type: 'linear', position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: c.y2Title } };
  new Chart(document.getElementById('chart-' + c.name), {
    type: 'line',
    data: { labels: c.labels, datasets: c.series.map((s, k) => ({ label: s.label, data: s.data, yAxisID: s.axis, borderColor: colors[k % colors.length], backgroundColor: colors[k % colors.length], pointRadius: c.labels.length > 60 ? 0 : 2, tension: 0.1 })) },
    options: { animation: false, responsive: false, plugins: { title: { display: true, text: c.title } }, scales },
  });
  drawn++;
}
window.__chartsDrawn = drawn;
`

export function htmlReport(r: ResultFile): string {
  const e = r.environment
  const charts = chartsOf(r)
  const rows = orderedMetrics(r.metrics).filter((n) => !/samples$/.test(n))
    .map((n) => `<tr><td>${esc(n)}</td><td class="num">${esc(fmtValue(n, r.metrics[n]))}</td><td class="num">${r.noise[n] === undefined ? '' : `${(r.noise[n] * 100).toFixed(1)} %`}</td><td>${esc(describe(n))}</td></tr>`).join('\n')
  const env: Array<[string, string]> = [
    ['target', e.embedded ? 'embedded tickcast on 127.0.0.1' : e.target], ['server', e.server ? `${e.server.version} · ${e.server.commit} · node ${e.server.node}` : 'unknown (no /metrics)'],
    ['node', e.node], ['CPU', `${e.cpus} × ${e.cpuModel}`], ['memory', `${e.memoryGiB} GiB`], ['host', e.hostname], ['bench commit', e.commit],
    ['runs', String(r.runs.length)], ['generator processes', String(e.procs)], ['started', r.startedAt], ['command', ['tickcast-bench', ...r.argv].join(' ')],
  ]
  const notes = [...new Set(r.runs.flatMap((x) => x.notes ?? []))]
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tickcast-bench ${esc(r.scenario)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #1f2328; background: #fff; }
table { border-collapse: collapse; margin: 8px 0 20px; } td, th { border: 1px solid #d0d7de; padding: 3px 8px; } .num { text-align: right; }
.chart { display: inline-block; margin: 8px; border: 1px solid #d0d7de; background: #fff; }
</style></head><body>
<h1>tickcast-bench ${esc(r.scenario)}</h1>
<table>${env.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2>Summary</h2>
<table><tr><th>metric</th><th>value</th><th>noise ±</th><th>what</th></tr>
${rows}</table>
${notes.length > 0 ? `<h2>Notes</h2><ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<h2>Charts</h2>
${charts.map((c) => `<div class="chart" id="box-${c.name}"><canvas id="chart-${c.name}" width="720" height="360"></canvas></div>`).join('\n')}
<script type="application/json" id="chart-data">${scriptJson(charts)}</script>
<script>${chartSource()}</script>
<script>${DRAW}</script>
</body></html>
`
}
