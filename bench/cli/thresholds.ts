// Owns pass/fail thresholds (k6 style): `--threshold 'p99<50ms'`, checked against a result's metrics.
// Must never pass a threshold it cannot evaluate: an unknown metric or a malformed expression fails it, saying why.
import { unitOf } from './result.js'

export interface Threshold { text: string; metric: string; op: '<' | '<=' | '>' | '>=' | '=='; value: number }
export interface Verdict { threshold: string; ok: boolean; actual: number | null; message: string }

const EXPR = /^\s*([A-Za-z_][\w.]*)\s*(<=|>=|==|<|>)\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*([kKMG]|ms|us|µs|s|%)?\s*$/
const SCALE: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, '%': 1 }
/** duration suffixes → ms, the unit latency metrics are in */
const TO_MS: Record<string, number> = { ms: 1, us: 1e-3, 'µs': 1e-3, s: 1000 }

export function parseThreshold(text: string): Threshold {
  const m = EXPR.exec(text)
  if (!m) throw new Error(`--threshold '${text}': expected METRIC OP VALUE[unit], e.g. 'p99<50ms', 'updates>1e6', 'errors==0'`)
  const [, metric, op, num, suffix] = m
  let value = Number(num)
  if (!Number.isFinite(value)) throw new Error(`--threshold '${text}': ${num} is not a number`)
  if (suffix && suffix in TO_MS) {
    const unit = unitOf(metric)
    if (unit !== 'ms' && unit !== 's') throw new Error(`--threshold '${text}': ${metric} is not a duration, drop the '${suffix}'`)
    value = value * TO_MS[suffix] / (unit === 's' ? 1000 : 1)
  } else if (suffix) value *= SCALE[suffix]
  return { text, metric, op: op as Threshold['op'], value }
}

export function check(t: Threshold, metrics: Record<string, number>): Verdict {
  const actual = metrics[t.metric]
  if (actual === undefined) {
    return { threshold: t.text, ok: false, actual: null, message: `no metric '${t.metric}' in this result (known: ${Object.keys(metrics).sort().join(', ')})` }
  }
  const ok = t.op === '<' ? actual < t.value : t.op === '<=' ? actual <= t.value : t.op === '>' ? actual > t.value : t.op === '>=' ? actual >= t.value : actual === t.value
  const unit = unitOf(t.metric)
  return { threshold: t.text, ok, actual, message: `${ok ? 'ok  ' : 'FAIL'} ${t.text}: ${t.metric} = ${actual}${unit ? ' ' + unit : ''}` }
}

/** The exit code of a gated run: 99 when any threshold is violated (k6 uses 99 too), else 0. */
export const THRESHOLD_EXIT = 99
