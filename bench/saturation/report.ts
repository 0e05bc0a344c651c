// Owns how the saturation result reads: the console summary and the Markdown README section (command, machine,
// each ratio, each target). Must never measure: it formats a SaturationResult and nothing else.
import type { SaturationResult, StepResult, SystemRun } from './results.js'

const m = (x: number): string => (x / 1e6).toFixed(2)
/** 1.23 M, 45.6 k: rates from a few thousand to millions per second */
const rate = (x: number): string => x >= 1e6 ? `${m(x)} M` : `${(x / 1e3).toFixed(1)} k`
const sat = (r: SystemRun): string => r.status !== 'ok' ? `FAILED: ${r.error ?? ''}` : r.saturation === null ? `below ${r.steps[0]?.target ?? '?'}/s` : `${r.saturation}/s${r.saturationCapped ? ' (every step complete: at least)' : ''}`
const verdict = (met: boolean | null): string => met === true ? 'met' : met === false ? 'NOT met' : 'undecided'

/** the step a row quotes: the saturation step, else the first */
function headline(r: SystemRun): StepResult | undefined {
  return r.steps.find((s) => s.target === r.saturation) ?? r.steps[0]
}

export function consoleSummary(res: SaturationResult): string {
  const out: string[] = ['', 'saturation (highest offered rate delivered completely, p99 ≤ ' + res.options.p99LimitMs + ' ms):']
  for (const r of res.runs) out.push(`  round ${r.round + 1} ${r.system.padEnd(12)} ${sat(r)}${r.status === 'ok' && r.error ? ` [${r.error}]` : ''}`)
  out.push('', 'ratios (tickcast saturation / baseline, median of rounds):')
  for (const x of res.summary.ratios) out.push(`  vs ${x.baseline.padEnd(12)} ${x.ratio === null ? 'n/a' : '×' + x.ratio} (${x.bound}; per round ${x.perRound.map((v) => v === null ? 'n/a' : '×' + v).join(', ')})`)
  out.push('', 'server CPU per delivered update near 2 M updates/s:')
  for (const [k, v] of Object.entries(res.summary.cpuAt2M)) out.push(`  ${k.padEnd(12)} ${v ? `${v.cpuUsPerUpdate} µs at ${m(v.updatesPerSec)} M/s${v.perLoadCpu == null ? '' : ` (×${v.perLoadCpu} of the load generators' CPU per update)`}` : 'no step near 2 M/s'}`)
  const i = res.summary.idle
  out.push('', `idle memory per connection (feed quiet, after GC, marginal): tickcast ${i.tickcast ?? 'n/a'} B, bare uWS ${i.bareUws ?? 'n/a'} B, ratio ${i.ratio === null ? 'n/a' : '×' + i.ratio};` +
    ` subscribed to ${res.options.symbolsPerSub} symbols: ${i.tickcastSubscribed ?? 'n/a'} B vs ${i.bareUwsSubscribed ?? 'n/a'} B, ratio ${i.ratioSubscribed === null ? 'n/a' : '×' + i.ratioSubscribed}`)
  out.push('', 'targets:')
  for (const t of res.summary.targets) out.push(`  ${verdict(t.met).padEnd(10)} ${t.name}: ${t.value} (goal ${t.goal})`)
  return out.join('\n')
}

/** README's generated benchmark section (tools/readme-sections.ts's markers `saturation:start` / `saturation:end`). */
export function readmeSection(res: SaturationResult): string {
  const mc = res.machine, o = res.options
  const lines: string[] = [
    `Measured by \`${res.command}\` on ${res.date.slice(0, 10)}: ${mc.cpus} × ${mc.cpuModel}, ${mc.memGiB} GiB, Node ${mc.node}, load average ${mc.loadAvgStart.map((x) => x.toFixed(1)).join(' ')} at the start` +
      ` (the simulator, the servers and ${o.procs} load processes share these cores); commit ${mc.commit.slice(0, 10)}. ${o.subs.toLocaleString('en-US')} subscribers × ${o.symbolsPerSub} of ${o.symbols} symbols,` +
      ` offered ${o.steps.join(', ')} messages/s for ${o.stepSec} s each, ${o.rounds} round(s). ${res.completeMeans} ${res.clocks}`,
    '',
    '| system | saturation (offered msgs/s) | at that step (else the lowest): offered | updates/s | WebSocket frames/s | p99 (from the load process\'s turn start) | server CPU per update | load generators\' CPU (per update) |',
    '|---|---|---|---|---|---|---|---|',
  ]
  const order = [...res.runs].sort((a, b) => o.systems.indexOf(a.system) - o.systems.indexOf(b.system) || a.round - b.round)
  for (const r of order) {
    const h = headline(r)
    const cells = r.status !== 'ok' || !h ? ['–', '–', '–', '–', '–', '–']
      : [`${rate(h.offered)}/s`, rate(h.updatesPerSec), `${rate(h.framesPerSec)}${r.system.startsWith('nats') ? ` (${rate(h.messagesPerSec)} NATS msgs)` : ''}`, `${h.p99Ms} ms${h.p99AtTurnStartMs === undefined ? '' : ` (${h.p99AtTurnStartMs} ms)`}`, `${h.cpuUsPerUpdate} µs`,
        `${h.loadCpuPct} %${h.loadCpuUsPerUpdate === undefined ? '' : ` (${h.loadCpuUsPerUpdate} µs)`}`]
    lines.push(`| ${r.system}${o.rounds > 1 ? ` (round ${r.round + 1})` : ''} | ${sat(r).replace(/\|/g, '/')} | ${cells.join(' | ')} |`)
  }
  lines.push('', '| ratio or target | figure | goal | verdict |', '|---|---|---|---|')
  for (const x of res.summary.ratios) {
    lines.push(`| saturation, tickcast / ${x.baseline} | ${x.ratio === null ? 'n/a' : '×' + x.ratio}${x.bound === 'exact' || x.bound === 'unknown' ? '' : ` (${x.bound})`}; per round ${x.perRound.map((v) => v === null ? 'n/a' : '×' + v).join(', ')} | – | – |`)
  }
  for (const t of res.summary.targets) lines.push(`| ${t.name} | ${t.value} | ${t.goal} | ${verdict(t.met)} |`)
  lines.push('')
  return lines.join('\n')
}
