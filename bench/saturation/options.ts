// Owns the saturation benchmark's command line: flags, defaults, bounds, usage text.
// Must never start anything: it returns options or every problem at once, and the caller acts.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { SaturationOptions } from './results.js'
import { LOAD_SYSTEMS } from './systems.js'
import type { SystemName } from './systems.js'

export const SATURATION_USAGE = `Usage: npm run bench:saturation -- [options]

Saturation benchmark: tickcast, nats-server's WebSocket listener with batched publishing (one message per symbol
per turn, tickcast's batching), nats-server unbatched, and a naive \`ws\` server, fed one after the other by the
same simulator at fixed, stepped offered rates (open loop). Saturation = the highest offered rate delivered
completely (no gap, no conflation, p99 ≤ --p99-ms). Also: updates/s and frames/s, server CPU per delivered update,
and idle memory per connection (feed quiet, after GC) against bare uWebSockets.js. A baseline that fails is
reported as failed; the JSON is always written.

Options:
  --subs <n>             subscribers                                   (default 1000)
  --symbols <n>          symbols in the feed, busiest first            (default 500)
  --symbols-per-sub <n>  symbols each subscriber takes                 (default 50)
  --steps <list>         offered rates, messages/s, ascending          (default 2500,5000,10000,20000,40000,80000)
  --step-sec <s>         seconds measured per step                     (default 2)
  --rounds <n>           repeat everything, alternating the order      (default 1)
  --systems <list>       tickcast,nats-batched,nats,naive              (default all four)
  --procs <n>            load-generator processes                      (default 2)
  --idle-conns <n>       idle connections for the memory comparison, in seven waves (a warm-up, three
                         unsubscribed, three subscribed): each kind's growth over its three waves is
                         the per-connection figure; 0 = skip                    (default 14000)
  --p99-ms <ms>          latency bound of a complete step              (default 50)
  --max-rss-mib <n>      stop a system whose RSS passes this           (default 3072)
  --max-sec <s>          bound of the whole run                        (default 600)
  --tickcast-args <s>    extra tickcast flags, space-separated         (default none)
  --out <file>           JSON result                                   (default bench/results/saturation-<date>.json)
  --readme               regenerate README.md's benchmark section from this run
  --from <file>          measure nothing: print the summary of a saved result (and --readme from it)
  --help                 print this text
`

const OPTIONS = {
  subs: { type: 'string', default: '1000' },
  symbols: { type: 'string', default: '500' },
  'symbols-per-sub': { type: 'string', default: '50' },
  steps: { type: 'string', default: '2500,5000,10000,20000,40000,80000' },
  'step-sec': { type: 'string', default: '2' },
  rounds: { type: 'string', default: '1' },
  systems: { type: 'string', default: LOAD_SYSTEMS.join(',') },
  procs: { type: 'string', default: '2' },
  'idle-conns': { type: 'string', default: '14000' },
  'p99-ms': { type: 'string', default: '50' },
  'max-rss-mib': { type: 'string', default: '3072' },
  'max-sec': { type: 'string', default: '600' },
  'tickcast-args': { type: 'string', default: '' },
  out: { type: 'string' },
  readme: { type: 'boolean', default: false },
  from: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const

export type ParsedSaturation = { ok: true; help: boolean; readme: boolean; from: string | null; opts: SaturationOptions } | { ok: false; errors: string[] }

const resultsDir = fileURLToPath(new URL('../../../bench/results/', import.meta.url))

export function parseSaturationArgs(argv: string[], log: (line: string) => void = (l) => console.log(l)): ParsedSaturation {
  let v
  try { v = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values } catch (e) { return { ok: false, errors: [(e as Error).message] } }
  const errors: string[] = []
  const num = (flag: string, text: string, min: number, max: number, integer = true): number => {
    const x = Number(text)
    if (text.trim() === '' || !Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min || x > max) errors.push(`--${flag}: expected ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got "${text}"`)
    return x
  }
  const steps = v.steps.split(',').map((s) => num('steps', s, 1, 5_000_000))
  if (steps.length > 12) errors.push('--steps: at most 12 steps')
  if (steps.some((s, k) => k > 0 && s <= steps[k - 1])) errors.push('--steps: expected ascending rates')
  const systems = v.systems.split(',') as SystemName[]
  for (const s of systems) if (!LOAD_SYSTEMS.includes(s)) errors.push(`--systems: unknown "${s}" (${LOAD_SYSTEMS.join(', ')})`)
  const opts: SaturationOptions = {
    systems, steps,
    subs: num('subs', v.subs, 1, 20_000), symbols: num('symbols', v.symbols, 1, 10_000), symbolsPerSub: num('symbols-per-sub', v['symbols-per-sub'], 1, 10_000),
    stepSec: num('step-sec', v['step-sec'], 0.2, 60, false), settleSec: 0.5, warmupSec: 1, idleSettleSec: 1, rounds: num('rounds', v.rounds, 1, 10),
    procs: num('procs', v.procs, 1, 16), idleConns: num('idle-conns', v['idle-conns'], 0, 20_000), p99LimitMs: num('p99-ms', v['p99-ms'], 1, 60_000, false),
    completeRatio: 0.95, maxRssMiB: num('max-rss-mib', v['max-rss-mib'], 64, 16_384), maxSec: num('max-sec', v['max-sec'], 5, 7200, false),
    connectTimeoutMs: 30_000, tickcastArgs: v['tickcast-args'].split(' ').filter(Boolean),
    out: v.out ?? join(resultsDir, `saturation-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`), log,
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, help: v.help, readme: v.readme, from: v.from ?? null, opts }
}
