// Owns the bench CLI's command line: the options every scenario shares, parsing a scenario's own, and the help texts.
// Must never throw at the user: every mistake comes back as a message (and --help always works, whatever else is given).
import { parseArgs } from 'node:util'
import type { OptionSpec, OptionValues, Scenario } from './scenario.js'

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'url', type: 'string', placeholder: 'ws://host:port/v1/stream', help: 'drive this deployment; without it the CLI starts tickcast and its simulator on 127.0.0.1' },
  { name: 'http', type: 'string', placeholder: 'http://host:port', help: 'its HTTP listener (snapshot, /metrics); default: the --url host and port' },
  { name: 'metrics', type: 'string', placeholder: 'http://host:port/metrics', help: "its Prometheus endpoint (server version, soak drift); default: tickcast's, the --url port + 1" },
  { name: 'mqtt', type: 'string', placeholder: 'mqtt://host:port', help: 'its MQTT broker (mqtt scenario)' },
  { name: 'token', type: 'string', placeholder: 'jwt', help: 'credential: a JWT, sent as Authorization: Bearer (or see --auth-mode)' },
  { name: 'api-key', type: 'string', placeholder: 'key', help: 'credential: an API key, sent like a token' },
  { name: 'auth-mode', type: 'string', default: 'header', placeholder: 'header|message', help: "WebSocket credential on the upgrade (header) or as the first message {\"op\":\"auth\"}" },
  { name: 'duration', type: 'number', default: 10, placeholder: 'sec', help: 'seconds of measured load' },
  { name: 'warmup', type: 'number', default: 1, placeholder: 'sec', help: 'seconds of load before measuring' },
  { name: 'rate', type: 'number', default: 20000, placeholder: 'msgs/s', help: 'embedded/feed simulator: feed messages per second (0 = as fast as it can)' },
  { name: 'symbols', type: 'number', default: 500, placeholder: 'n', help: 'embedded/feed simulator: symbols in the market (busiest first)' },
  { name: 'server-args', type: 'string', default: '', placeholder: "'--workers 2'", help: 'embedded: extra tickcast flags' },
  { name: 'procs', type: 'number', default: 1, placeholder: 'n', help: 'load-generator processes (results merged)' },
  { name: 'repeat', type: 'number', default: 1, placeholder: 'n', help: 'run n times: metrics are medians, the spread is the noise band --compare uses' },
  { name: 'out', type: 'string', placeholder: 'dir', help: 'write result.json, summary.md, report.html here (default ./bench-results/<scenario>-<time>)' },
  { name: 'png', type: 'boolean', default: false, help: 'also render the charts as PNGs with headless Chromium (playwright-core; $CHROMIUM or /usr/bin/chromium)' },
  { name: 'compare', type: 'string', placeholder: 'base.json', help: 'print ratios against this result file, with the noise band' },
  { name: 'threshold', type: 'string', placeholder: "'p99<50ms'", help: "fail (exit 99) unless METRIC OP VALUE holds; repeatable: --threshold 'p99<50ms' --threshold 'updates>1e6'" },
  { name: 'quiet', type: 'boolean', default: false, help: 'no live line' },
  { name: 'live-every', type: 'number', default: 5, placeholder: 'sec', help: 'without a TTY (CI logs): a plain progress line every n seconds' },
  { name: 'max-sec', type: 'number', default: 900, placeholder: 'sec', help: 'hard stop of the whole command; what was measured is still written' },
  { name: 'help', type: 'boolean', default: false, help: 'this text' },
]

export type Parsed = { ok: true; values: OptionValues; thresholds: string[] } | { ok: false; error: string }

/** 1e6, 10k, 2.5M, 0.5 → a number; NaN when it is none. */
export function parseNumber(text: string): number {
  const m = /^\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*([kKMG]?)\s*$/.exec(text)
  if (!m) return Number.NaN
  return Number(m[1]) * (m[2] === '' ? 1 : m[2] === 'G' ? 1e9 : m[2] === 'M' ? 1e6 : 1e3)
}

/** Parses `args` (after the scenario name) against the global options and the scenario's own. */
export function parseOptions(args: string[], scenario: Scenario | null): Parsed {
  const specs = [...GLOBAL_OPTIONS, ...(scenario?.options ?? [])]
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {}
  for (const s of specs) config[s.name] = { type: s.type === 'boolean' ? 'boolean' : 'string', ...(s.name === 'threshold' ? { multiple: true } : {}) }
  let raw: Record<string, string | boolean | string[] | undefined>
  try {
    raw = parseArgs({ args, options: config, strict: true, allowPositionals: false }).values as typeof raw
  } catch (e) {
    return { ok: false, error: (e as Error).message }
  }
  const values: OptionValues = {}
  for (const s of specs) {
    const v = raw[s.name]
    if (s.name === 'threshold') continue
    if (v === undefined) { values[s.name] = s.default; continue }
    if (s.type === 'number') {
      const n = parseNumber(String(v))
      if (!Number.isFinite(n) || n < 0) return { ok: false, error: `--${s.name}: expected a number ≥ 0 (1e6, 10k), got "${String(v)}"` }
      values[s.name] = n
    } else values[s.name] = v as string | boolean
  }
  if (values['auth-mode'] !== 'header' && values['auth-mode'] !== 'message') return { ok: false, error: `--auth-mode: header or message, got "${String(values['auth-mode'])}"` }
  if (values.token !== undefined && values['api-key'] !== undefined) return { ok: false, error: '--token and --api-key: give one' }
  if ((values.procs as number) < 1 || !Number.isInteger(values.procs)) return { ok: false, error: '--procs: an integer ≥ 1' }
  if ((values.repeat as number) < 1 || !Number.isInteger(values.repeat)) return { ok: false, error: '--repeat: an integer ≥ 1' }
  return { ok: true, values, thresholds: (raw.threshold as string[] | undefined) ?? [] }
}

function optionLines(specs: OptionSpec[]): string {
  const left = specs.map((s) => `  --${s.name}${s.type === 'boolean' ? '' : ` <${s.placeholder ?? s.type}>`}`)
  const w = Math.min(Math.max(...left.map((l) => l.length)) + 2, 44)
  return specs.map((s, i) => {
    const def = s.default !== undefined && s.default !== '' && s.type !== 'boolean' ? ` (default ${String(s.default)})` : ''
    return `${left[i].padEnd(w)}${s.help}${def}`
  }).join('\n')
}

export function mainHelp(scenarios: readonly Scenario[]): string {
  const w = Math.max(...scenarios.map((s) => s.name.length), 6) + 2
  return `Usage: tickcast-bench <scenario> [options]      (from a checkout: npm run bench -- <scenario> [options])
       tickcast-bench merge <a.json> <b.json>... [--out dir] [--png]
       tickcast-bench <scenario> --help

Load-tests a tickcast deployment (--url), or one it starts itself on 127.0.0.1, and writes a JSON result,
a Markdown summary and an HTML report with charts. Exit 0, or 99 when a --threshold is violated, 2 on usage.

Scenarios:
${scenarios.map((s) => `  ${s.name.padEnd(w)}${s.summary}`).join('\n')}
  ${'merge'.padEnd(w)}combine result files of one scenario run at the same time on several machines

Options (every scenario):
${optionLines(GLOBAL_OPTIONS)}

Examples:
  npm run bench -- fanout --subs 200 --duration 10
  npx tickcast-bench fanout --url ws://md.example:8080/v1/stream --api-key $KEY --subs 1000 --threshold 'p99<50ms'
  npx tickcast-bench latency --repeat 3 --out base && npx tickcast-bench latency --compare base/result.json
`
}

export function scenarioHelp(s: Scenario): string {
  return `Usage: tickcast-bench ${s.name} [options]

${s.description}

Options of ${s.name}:
${s.options.length > 0 ? optionLines(s.options) : '  (none)'}

Options (every scenario):
${optionLines(GLOBAL_OPTIONS)}
`
}

export const MERGE_HELP = `Usage: tickcast-bench merge <a.json> <b.json>... [--out dir] [--png]

Combines result files of the same scenario, run at the same time against the same deployment from several
machines (or with different options), into one result: counts and rates add up, latency histograms merge
(percentiles are recomputed from the merged histograms), and run k of every file becomes run k.

Options:
  --out <dir>   where result.json, summary.md, report.html go (default ./bench-results/merge-<time>)
  --png         also render the charts as PNGs
  --help        this text
`
