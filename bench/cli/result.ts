// Owns the bench result file: its shape, the metrics derived from a run, the median of repeats, and merging parts.
// Must never lose a part's data when merging: counts and rates add up, histograms merge, values keep the max.
import * as hdr from 'hdr-histogram-js'
import type { RunResult, Sample } from './scenario.js'

export interface Environment {
  node: string; platform: string; cpuModel: string; cpus: number; memoryGiB: number; hostname: string
  /** the bench's own checkout (git HEAD) or $TICKCAST_COMMIT, 'unknown' outside a checkout */
  commit: string
  /** tickcast_build_info of the server under load, null when /metrics is not reachable */
  server: { version: string; commit: string; node: string } | null
  target: string
  embedded: boolean
  procs: number
}

export interface ResultFile {
  tool: 'tickcast-bench'
  schema: 1
  scenario: string
  startedAt: string
  argv: string[]
  options: Record<string, unknown>
  environment: Environment
  /** one per --repeat; each run may itself be a merge of several generator processes or machines */
  runs: Array<RunResult & { metrics: Record<string, number> }>
  /** the median of each metric over the runs */
  metrics: Record<string, number>
  /** relative half-spread of each metric over the runs ((max - min) / 2 / median); absent with one run */
  noise: Record<string, number>
  /** how many result files went into this one (merge) */
  parts: number
}

const PCTS: Array<[string, number]> = [['p50', 50], ['p90', 90], ['p99', 99], ['p999', 99.9]]

export function decodeHist(b64: string): hdr.Histogram { return hdr.decodeFromCompressedBase64(b64) }

/** Metrics of one run: counts as they are, rates per second, values, and ms percentiles of each histogram. */
export function metricsOf(r: RunResult): Record<string, number> {
  const m: Record<string, number> = {}
  const secs = Math.max(r.elapsedSec ?? 1, 1e-3)
  for (const [k, v] of Object.entries(r.counts)) m[k] = v
  for (const [k, v] of Object.entries(r.rates)) m[k] = Math.round((v / secs) * 10) / 10
  for (const [k, v] of Object.entries(r.values)) m[k] = v
  for (const [name, b64] of Object.entries(r.histograms)) {
    const h = decodeHist(b64)
    if (h.totalCount === 0) continue
    const prefix = name === 'latency' ? '' : `${name}_`
    for (const [label, p] of PCTS) m[`${prefix}${label}`] = Math.round(h.getValueAtPercentile(p)) / 1000
    m[`${prefix}max`] = Math.round(h.maxValue) / 1000
    m[`${prefix}mean`] = Math.round(h.mean) / 1000
    m[`${prefix}samples`] = h.totalCount
  }
  if (r.elapsedSec !== undefined) m.elapsed_s = Math.round(r.elapsedSec * 10) / 10
  return m
}

/** Unit of a metric name, for display and thresholds: latencies (p99, connect_p50...) are ms. */
export function unitOf(name: string): string {
  if (/(^|_)(p\d+|max|mean)$/.test(name) || name.endsWith('_ms')) return 'ms'
  if (name.endsWith('_s')) return 's'
  if (name.endsWith('_mib')) return 'MiB'
  return ''
}

/** true when a smaller value is better (latencies, errors, gaps...) */
export function lowerIsBetter(name: string): boolean {
  return unitOf(name) === 'ms' || /(error|gap|missing|duplicate|fail|slow|close_|drift|skipped|rss)/.test(name)
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), k = s.length >> 1
  return s.length % 2 === 1 ? s[k] : (s[k - 1] + s[k]) / 2
}

/** Medians and noise over the runs. */
export function summarizeRuns(runs: ResultFile['runs']): { metrics: Record<string, number>; noise: Record<string, number> } {
  const metrics: Record<string, number> = {}, noise: Record<string, number> = {}
  const names = new Set(runs.flatMap((r) => Object.keys(r.metrics)))
  for (const n of names) {
    const xs = runs.map((r) => r.metrics[n]).filter((x) => typeof x === 'number' && Number.isFinite(x))
    if (xs.length === 0) continue
    const med = median(xs)
    metrics[n] = Math.round(med * 1000) / 1000
    if (xs.length > 1) noise[n] = med === 0 ? (Math.max(...xs) === 0 ? 0 : 1) : (Math.max(...xs) - Math.min(...xs)) / 2 / Math.abs(med)
  }
  return { metrics, noise }
}

function add(into: Record<string, number>, from: Record<string, number>, op: (a: number, b: number) => number): void {
  for (const [k, v] of Object.entries(from)) into[k] = into[k] === undefined ? v : op(into[k], v)
}

/** Same-second samples of concurrent parts: connections, rates and errors add up, p50 the mean, p99 the max. */
function mergeSeries(series: Sample[][]): Sample[] {
  const byT = new Map<number, Sample[]>()
  for (const s of series) for (const x of s) { const k = Math.round(x.t); byT.set(k, [...(byT.get(k) ?? []), x]) }
  return Array.from(byT.entries()).sort((a, b) => a[0] - b[0]).map(([t, xs]) => ({
    t, connections: xs.reduce((a, x) => a + x.connections, 0), updatesPerSec: xs.reduce((a, x) => a + x.updatesPerSec, 0),
    errors: xs.reduce((a, x) => a + x.errors, 0), p50Ms: xs.reduce((a, x) => a + x.p50Ms, 0) / xs.length, p99Ms: Math.max(...xs.map((x) => x.p99Ms)),
  }))
}

/** Parts of one run generated at the same time (worker processes, machines) → one run. */
export function mergeRuns(parts: RunResult[]): RunResult {
  const out: RunResult = { counts: {}, rates: {}, values: {}, histograms: {}, notes: [], timeseries: [] }
  const hists = new Map<string, hdr.Histogram>()
  let elapsed = 0
  for (const p of parts) {
    add(out.counts, p.counts, (a, b) => a + b)
    add(out.rates, p.rates, (a, b) => a + b)
    add(out.values, p.values, Math.max)
    for (const [k, b64] of Object.entries(p.histograms)) {
      const h = decodeHist(b64)
      const into = hists.get(k)
      if (into) into.add(h); else hists.set(k, h)
    }
    for (const n of p.notes ?? []) if (!out.notes!.includes(n)) out.notes!.push(n)
    elapsed = Math.max(elapsed, p.elapsedSec ?? 0)
  }
  for (const [k, h] of hists) out.histograms[k] = hdr.encodeIntoCompressedBase64(h)
  out.elapsedSec = elapsed
  out.timeseries = mergeSeries(parts.map((p) => p.timeseries ?? []))
  const ramps = parts.map((p) => p.ramp).filter((r): r is NonNullable<RunResult['ramp']> => Array.isArray(r))
  if (ramps.length > 0) {
    out.ramp = ramps[0].map((step, i) => {
      const same = ramps.map((r) => r[i]).filter(Boolean)
      return { ...step, subscribers: same.reduce((a, s) => a + s.subscribers, 0), updatesPerSec: same.reduce((a, s) => a + s.updatesPerSec, 0), p99Ms: Math.max(...same.map((s) => s.p99Ms)) }
    })
  }
  return out
}

/** A result file from runs (metrics computed here). */
export function buildResult(base: Omit<ResultFile, 'runs' | 'metrics' | 'noise'>, runs: RunResult[]): ResultFile {
  const withMetrics = runs.map((r) => ({ ...r, metrics: metricsOf(r) }))
  return { ...base, runs: withMetrics, ...summarizeRuns(withMetrics) }
}

/**
 * Result files of the same scenario run at the same time on several machines → one: run k of every file is
 * merged into run k (the files must have the same number of runs; extra runs are dropped and said so).
 */
export function mergeFiles(files: ResultFile[]): ResultFile {
  if (files.length === 0) throw new Error('merge: no result files')
  const scen = new Set(files.map((f) => f.scenario))
  if (scen.size > 1) throw new Error(`merge: the files are of different scenarios (${[...scen].join(', ')})`)
  const n = Math.min(...files.map((f) => f.runs.length))
  const runs = Array.from({ length: n }, (_, k) => mergeRuns(files.map((f) => f.runs[k])))
  if (files.some((f) => f.runs.length !== n)) runs[0].notes = [...(runs[0].notes ?? []), `merge: only the first ${n} run(s) of each file were merged`]
  const first = files[0]
  const hosts = [...new Set(files.map((f) => f.environment.hostname))]
  return buildResult({
    ...first,
    environment: { ...first.environment, hostname: hosts.join(','), procs: files.reduce((a, f) => a + f.environment.procs, 0) },
    parts: files.reduce((a, f) => a + f.parts, 0),
  }, runs)
}

/** Parses and checks a result file (a user may pass anything). */
export function parseResult(text: string, name: string): ResultFile {
  const f = JSON.parse(text) as ResultFile
  if (f?.tool !== 'tickcast-bench' || !Array.isArray(f.runs) || typeof f.metrics !== 'object') throw new Error(`${name}: not a tickcast-bench result file`)
  return f
}
