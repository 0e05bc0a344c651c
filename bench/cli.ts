#!/usr/bin/env node
// Owns the tickcast-bench command: pick a scenario or `merge`, run it (repeats, workers), write reports, compare, gate.
// Must never exit without stopping what it started, nor print a stack trace for a user mistake (usage: exit 2).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, hostname, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { buildCommit } from '../src/metrics/build-commit.js'
import { stopAll } from './lib/procs.js'
import { compare, formatComparison } from './cli/compare.js'
import { LiveLine } from './cli/live.js'
import { GLOBAL_OPTIONS, MERGE_HELP, mainHelp, parseOptions, scenarioHelp } from './cli/options.js'
import { renderPngs } from './cli/png.js'
import { allScenarios, findScenario } from './cli/registry.js'
import { markdownSummary } from './cli/report-md.js'
import { htmlReport } from './cli/report-html.js'
import { buildResult, mergeFiles, parseResult } from './cli/result.js'
import type { Environment, ResultFile } from './cli/result.js'
import { WORKER_ENV, runForked, runLocal, workerMain } from './cli/runner.js'
import type { RunResult, Scenario } from './cli/scenario.js'
import { serverInfo, startTarget } from './cli/target.js'
import { THRESHOLD_EXIT, check, parseThreshold } from './cli/thresholds.js'

const EXIT_USAGE = 2
const out = (s: string): void => { process.stdout.write(s.endsWith('\n') ? s : s + '\n') }
const err = (s: string): void => { process.stderr.write(s.endsWith('\n') ? s : s + '\n') }

class UsageError extends Error {}

function stamp(): string { return new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-') }

/** Writes result.json, summary.md, report.html (and PNGs) into dir; prints the summary. */
async function writeReports(r: ResultFile, dir: string, png: boolean): Promise<void> {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'result.json'), JSON.stringify(r, null, 2) + '\n')
  const md = markdownSummary(r)
  writeFileSync(join(dir, 'summary.md'), md)
  const html = htmlReport(r)
  writeFileSync(join(dir, 'report.html'), html)
  out('\n' + md)
  out(`results: ${join(dir, 'result.json')}\n         ${join(dir, 'summary.md')}\n         ${join(dir, 'report.html')}`)
  if (png) for (const f of await renderPngs(html, dir)) out(`         ${f}`)
}

function environment(target: string, embedded: boolean, procs: number, server: Environment['server']): Environment {
  const c = cpus()
  return {
    node: process.version, platform: `${process.platform}-${process.arch}`, cpuModel: c[0]?.model.trim() ?? 'unknown', cpus: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30), hostname: hostname(), commit: buildCommit(), server, target, embedded, procs,
  }
}

async function mergeCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { out(MERGE_HELP); return 0 }
  const files: string[] = []
  let dir: string | undefined, png = false
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') { dir = args[++i]; if (!dir) throw new UsageError('--out needs a directory') } else if (args[i] === '--png') png = true
    else if (args[i].startsWith('--')) throw new UsageError(`merge: unknown option ${args[i]}`)
    else files.push(args[i])
  }
  if (files.length < 2) throw new UsageError('merge: give at least two result files')
  const merged = mergeFiles(files.map((f) => parseResult(readFileSync(f, 'utf8'), f)))
  merged.argv = ['merge', ...args]
  await writeReports(merged, resolve(dir ?? join('bench-results', `merge-${stamp()}`)), png)
  return 0
}

async function scenarioCommand(scenario: Scenario, args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { out(scenarioHelp(scenario)); return 0 }
  const parsed = parseOptions(args, scenario)
  if (!parsed.ok) throw new UsageError(parsed.error)
  const o = parsed.values
  const thresholds = parsed.thresholds.map((t) => { try { return parseThreshold(t) } catch (e) { throw new UsageError((e as Error).message) } })
  const base = o.compare ? parseResult(readFileSync(o.compare as string, 'utf8'), o.compare as string) : null
  const worker = process.env[WORKER_ENV]
  const ac = new AbortController()
  const abort = (why: string): void => { if (!ac.signal.aborted) { err(`\nstopping: ${why} (what was measured is kept)`); ac.abort() } }
  process.once('SIGINT', () => abort('SIGINT'))
  process.once('SIGTERM', () => abort('SIGTERM'))
  setTimeout(() => abort(`over --max-sec ${String(o['max-sec'])}`), (o['max-sec'] as number) * 1000).unref()
  const live = new LiveLine({ tty: Boolean(process.stderr.isTTY), quiet: Boolean(o.quiet), everySec: Math.max(1, Math.round(o['live-every'] as number)), out: process.stderr })
  const log = (line: string): void => { live.done(); err(line) }

  const started = scenario.ownTarget && o.url === undefined ? ownTarget(o) : await startTarget({
    url: o.url as string | undefined, http: o.http as string | undefined, mqtt: o.mqtt as string | undefined, metrics: o.metrics as string | undefined,
    token: o.token as string | undefined, apiKey: o['api-key'] as string | undefined, authMode: o['auth-mode'] as 'header' | 'message',
    feedRate: o.rate as number, symbols: o.symbols as number, serverArgs: o['server-args'] as string, mqttNeeded: Boolean(scenario.needsMqtt),
  })
  try {
    const target = started.target
    if (worker) {
      const [k, n] = worker.split('/').map(Number)
      target.embedded = process.env.TICKCAST_BENCH_EMBEDDED === '1'
      target.feedPort = Number(process.env.TICKCAST_BENCH_FEED_PORT) || null
      await workerMain({ scenario, target, options: o, live, log }, { index: k, count: n })
      return 0
    }
    if (scenario.needsMqtt && target.mqtt === null) throw new UsageError(`${scenario.name} needs the deployment's MQTT broker: add --mqtt mqtt://host:port`)
    if (!scenario.ownTarget || !target.embedded) log(`${scenario.name}: ${target.embedded ? `embedded tickcast at ${target.ws} (simulator ${String(o.rate)} msgs/s, ${String(o.symbols)} symbols)` : target.ws}`)
    const server = target.http ? await serverInfo(target) : null
    const procs = scenario.splittable ? (o.procs as number) : 1
    if (!scenario.splittable && (o.procs as number) > 1) log(`${scenario.name} runs in one process: --procs ignored`)
    const startedAt = new Date().toISOString()
    const runs: RunResult[] = []
    for (let k = 0; k < (o.repeat as number) && !ac.signal.aborted; k++) {
      if ((o.repeat as number) > 1) log(`run ${k + 1} of ${String(o.repeat)}`)
      const spec = { scenario, target, options: o, signal: ac.signal, live, log }
      runs.push(procs > 1 ? await runForked(spec, procs, [scenario.name, ...args]) : await runLocal(spec, { index: 0, count: 1 }))
    }
    const options: Record<string, unknown> = {}
    for (const s of [...GLOBAL_OPTIONS, ...scenario.options]) if (o[s.name] !== undefined && !/^(token|api-key|mqtt-password)$/.test(s.name)) options[s.name] = o[s.name]
    const result = buildResult({
      tool: 'tickcast-bench', schema: 1, scenario: scenario.name, startedAt, argv: [scenario.name, ...redact(args)], options,
      environment: environment(target.embedded ? 'embedded' : target.ws, target.embedded, procs, server), parts: 1,
    }, runs)
    await writeReports(result, resolve((o.out as string | undefined) ?? join('bench-results', `${scenario.name}-${stamp()}`)), Boolean(o.png))
    if (base) out('\n' + formatComparison(compare(result, base), o.compare as string))
    if (thresholds.length > 0) {
      const verdicts = thresholds.map((t) => check(t, result.metrics))
      out('\nthresholds:\n' + verdicts.map((v) => `  ${v.message}`).join('\n'))
      if (verdicts.some((v) => !v.ok)) { out(`threshold violated: exit ${THRESHOLD_EXIT}`); return THRESHOLD_EXIT }
    }
    return ac.signal.aborted ? 130 : 0
  } finally { await started.stop() }
}

/** A scenario that starts what it measures (Scenario.ownTarget): no server here, nothing to stop. */
function ownTarget(o: Record<string, unknown>): Awaited<ReturnType<typeof startTarget>> {
  const credential = (o.token ?? o['api-key'] ?? null) as string | null
  return { target: { ws: '', http: '', metrics: null, mqtt: null, credential, authMode: o['auth-mode'] as 'header' | 'message', embedded: true, feedPort: null }, stop: async () => {} }
}

/** Credentials never reach a result file or a report. */
function redact(args: string[]): string[] {
  return args.map((a, i) => (i > 0 && /^--(token|api-key|mqtt-password)$/.test(args[i - 1]) ? '***' : a.replace(/^(--(?:token|api-key|mqtt-password)=).*/, '$1***')))
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') { out(mainHelp(allScenarios())); return 0 }
  if (cmd === 'merge') return mergeCommand(rest)
  const s = findScenario(cmd)
  if (!s) throw new UsageError(`unknown scenario '${cmd}'; scenarios: ${allScenarios().map((x) => x.name).join(', ')}, or merge`)
  return scenarioCommand(s, rest)
}

main(process.argv.slice(2)).then(
  async (code) => { await stopAll(); process.exit(code) },
  async (e: unknown) => {
    await stopAll()
    if (e instanceof UsageError) { err(`tickcast-bench: ${e.message}\nsee: tickcast-bench --help`); process.exit(EXIT_USAGE) }
    err(`tickcast-bench: ${(e as Error)?.message ?? String(e)}`)
    process.exit(1)
  },
)
