// Owns `--compare base.json`: per-metric ratios of this run against a baseline, judged against the noise band.
// Must never call a change a regression when it is inside the noise measured by the runs themselves.
import { lowerIsBetter, unitOf } from './result.js'
import type { ResultFile } from './result.js'

export interface Comparison { metric: string; base: number; current: number; ratio: number; noise: number | null; verdict: 'better' | 'worse' | 'within noise' | 'n/a' }

/** Metrics worth a line: everything but sample counts and elapsed time. */
const SKIP = /(_samples|^samples|elapsed_s)$/

export function compare(current: ResultFile, base: ResultFile): Comparison[] {
  const out: Comparison[] = []
  for (const [metric, cur] of Object.entries(current.metrics)) {
    const b = base.metrics[metric]
    if (b === undefined || SKIP.test(metric)) continue
    const ratio = b === 0 ? (cur === 0 ? 1 : Number.POSITIVE_INFINITY) : cur / b
    const bands = [current.noise[metric], base.noise[metric]].filter((x): x is number => typeof x === 'number')
    // the band both runs allow: the larger half-spread, doubled (two noisy measurements differ by up to both)
    const noise = bands.length > 0 ? Math.max(...bands) * 2 : null
    let verdict: Comparison['verdict'] = 'n/a'
    if (noise !== null && Number.isFinite(ratio)) {
      const change = ratio - 1
      verdict = Math.abs(change) <= noise ? 'within noise' : (change < 0) === lowerIsBetter(metric) ? 'better' : 'worse'
    } else if (cur === b) verdict = 'within noise'
    out.push({ metric, base: b, current: cur, ratio, noise, verdict })
  }
  return out.sort((a, b) => a.metric.localeCompare(b.metric))
}

export function formatComparison(rows: Comparison[], baseName: string): string {
  const lines = [`compared with ${baseName} (ratio = this run / base; noise band from repeated runs, --repeat N):`]
  const w = Math.max(8, ...rows.map((r) => r.metric.length))
  lines.push(`  ${'metric'.padEnd(w)}  ${'base'.padStart(12)}  ${'this run'.padStart(12)}  ${'ratio'.padStart(7)}  ${'noise ±'.padStart(8)}  verdict`)
  for (const r of rows) {
    const u = unitOf(r.metric)
    const fmt = (x: number): string => `${Math.abs(x) >= 1000 || Number.isInteger(x) ? Math.round(x).toLocaleString('en-US') : Number(x.toPrecision(4))}${u ? ' ' + u : ''}`
    lines.push(`  ${r.metric.padEnd(w)}  ${fmt(r.base).padStart(12)}  ${fmt(r.current).padStart(12)}  ${(Number.isFinite(r.ratio) ? `×${r.ratio.toFixed(2)}` : '∞').padStart(7)}  ${(r.noise === null ? 'n/a' : `${(r.noise * 100).toFixed(1)}%`).padStart(8)}  ${r.verdict}`)
  }
  if (rows.some((r) => r.noise === null)) lines.push('  (n/a: one run on each side; repeat runs with --repeat N to know the noise)')
  return lines.join('\n')
}
