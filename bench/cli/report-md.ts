// Owns the Markdown summary of a result file (summary.md, and what the CLI prints at the end of a run).
// Must never invent a figure: every cell comes from the result file's metrics, with its unit.
import { unitOf } from './result.js'
import type { ResultFile } from './result.js'

/** Metrics listed first, in this order, when present; the rest follow alphabetically. */
const FIRST = ['connections', 'subscribers', 'updates', 'messages', 'requests', 'connects', 'p50', 'p90', 'p99', 'p999', 'max', 'errors', 'gaps', 'missing', 'duplicates', 'slow_notices']

export function fmtValue(name: string, v: number): string {
  const u = unitOf(name)
  const num = Math.abs(v) >= 1000 || Number.isInteger(v) ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(4)).toString()
  return u ? `${num} ${u}` : num
}

export function orderedMetrics(metrics: Record<string, number>): string[] {
  const names = Object.keys(metrics)
  return [...FIRST.filter((n) => names.includes(n)), ...names.filter((n) => !FIRST.includes(n)).sort()]
}

/** What a metric name means, for the table (rates are per second of measured load). */
export function describe(name: string): string {
  const known: Record<string, string> = {
    updates: 'delivered updates per second', messages: 'delivered MQTT messages per second', requests: 'HTTP requests per second',
    connects: 'connections opened per second', frames: 'data frames per second', bytes: 'payload bytes per second',
    p50: 'latency p50', p90: 'latency p90', p99: 'latency p99', p999: 'latency p99.9', max: 'latency max', mean: 'latency mean',
    gaps: 'sequence gaps (updates after missing n)', missing: 'sequence numbers skipped', duplicates: 'updates with an n already seen',
    slow_notices: 'slow-consumer notices (conflating)', errors: 'errors', connections: 'connections open at the end',
  }
  if (known[name]) return known[name]
  const m = /^(\w+?)_(p\d+|max|mean|samples)$/.exec(name)
  return m ? `${m[1].replace(/_/g, ' ')} ${m[2] === 'p999' ? 'p99.9' : m[2]}` : name.replace(/_/g, ' ')
}

export function markdownSummary(r: ResultFile): string {
  const e = r.environment
  const lines = [
    `# tickcast-bench ${r.scenario}`,
    '',
    `${r.startedAt} · target ${e.embedded ? 'embedded tickcast on 127.0.0.1' : e.target} · server ${e.server ? `${e.server.version} (${e.server.commit.slice(0, 12)})` : 'unknown'}` +
      ` · node ${e.node} · ${e.cpus} × ${e.cpuModel} · bench commit ${e.commit.slice(0, 12)} · ${r.runs.length} run(s)${r.parts > 1 ? ` · ${r.parts} merged parts` : ''}${e.procs > 1 ? ` · ${e.procs} generator processes` : ''}`,
    '',
    `\`${['tickcast-bench', ...r.argv].join(' ')}\``,
    '',
    '| metric | value | noise ± | what |',
    '|---|---:|---:|---|',
  ]
  for (const n of orderedMetrics(r.metrics)) {
    if (/_samples$|^samples$/.test(n)) continue
    const noise = r.noise[n]
    lines.push(`| ${n} | ${fmtValue(n, r.metrics[n])} | ${noise === undefined ? '' : `${(noise * 100).toFixed(1)} %`} | ${describe(n)} |`)
  }
  const ramp = r.runs[0]?.ramp
  if (ramp && ramp.length > 0) {
    lines.push('', '## Ramp', '', '| subscribers | delivered updates/s | p99 ms |', '|---:|---:|---:|')
    for (const s of ramp) lines.push(`| ${s.subscribers} | ${Math.round(s.updatesPerSec).toLocaleString('en-US')} | ${s.p99Ms} |`)
  }
  const notes = [...new Set(r.runs.flatMap((x) => x.notes ?? []))]
  if (notes.length > 0) lines.push('', '## Notes', '', ...notes.map((n) => `- ${n}`))
  return lines.join('\n') + '\n'
}
