// Owns the one-command decode benchmark: native, ITCH 5.0 with book building, and IEX TOPS, messages/s on one core.
// Must never touch the network or the ring: each decoder feeds a counting TickSink, so only decoding is measured.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadUniverse } from '../feeds/sim/universe.js'
import { FeedGenerator } from '../feeds/sim/generator.js'
import { loadCapture } from '../feeds/replay/load-capture.js'
import { decodeBinaryFile } from '../feeds/capture/binary-file.js'
import { ItchDecoder } from '../src/feed/decoders/itch.js'
import { NativeDecoder } from '../src/feed/decoders/native.js'
import { TopsDecoder } from '../src/feed/decoders/tops.js'
import { FeedStats } from '../src/feed/feed-stats.js'
import type { PayloadDecoder, TickSink } from '../src/normalize/tick-sink.js'
import { syntheticOrderFlow } from './decode-itch.js'

/** The repository root: from the working directory if it is the repo, else up from this file (src or dist). */
function repoRoot(): string {
  const looks = (d: string): boolean => existsSync(path.join(d, 'package.json')) && existsSync(path.join(d, 'feeds', 'samples'))
  if (looks(process.cwd())) return process.cwd()
  let d = path.dirname(fileURLToPath(import.meta.url))
  for (let k = 0; k < 5 && !looks(d); k++) d = path.dirname(d)
  if (!looks(d)) throw new Error('run from the repository root (feeds/samples not found)')
  return d
}

const counts = { defs: 0, quotes: 0, trades: 0, statuses: 0 }
let nextLocate = 0
const sink: TickSink = {
  defineSymbol: () => { counts.defs++; return 0 }, locateOf: () => nextLocate++,
  quote: () => { counts.quotes++; return 0 }, trade: () => { counts.trades++; return 0 }, status: () => { counts.statuses++; return 0 },
}

/** BinaryFILE layout ([u16 BE len][message]) of `n` native messages from the simulator's generator (directory first). */
function nativeFlow(n: number): Buffer {
  const gen = new FeedGenerator({ universe: loadUniverse(path.join(repoRoot(), 'feeds/symbols/us-equities.csv')), symbols: 500, seed: 1, startTimeUs: 1.7e15 })
  const out = Buffer.alloc(n * 66)
  let o = 0
  for (let i = 0; i < n; i++) { const len = gen.next(); out.writeUInt16BE(len, o); gen.buf.copy(out, o + 2, 0, len); o += 2 + len }
  return out.subarray(0, o)
}

interface Result { name: string; messages: number; bestMsgsPerSec: number; medianMsgsPerSec: number; rounds: number }

/** Runs `round` `rounds` times after one warm-up; each round returns the messages it decoded. */
function measure(name: string, rounds: number, round: () => number): Result {
  round()
  const rates: number[] = []
  let n = 0
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    n = round()
    rates.push(n / ((performance.now() - t0) / 1000))
  }
  rates.sort((a, b) => a - b)
  return { name, messages: n, bestMsgsPerSec: Math.round(rates[rates.length - 1]), medianMsgsPerSec: Math.round(rates[rates.length >> 1]), rounds }
}

/**
 * Baseline for every row: walk the same bytes frame by frame reading only each type byte, the least any
 * decoder must do. Its rate, measured in the same run, turns each decoder's figure into a ratio that
 * survives a noisy machine.
 */
let typeSum = 0
function framingWalk(buf: Buffer): number {
  let n = 0, sum = 0
  for (let o = 0; o + 2 <= buf.length; n++) { const len = (buf[o] << 8) | buf[o + 1]; sum += buf[o + 2]; o += 2 + len }
  typeSum += sum
  return n
}

const USAGE = `Usage: npm run bench:decode -- [options]

Decoders alone on one core (each feeds a counting sink: no network, no ring), beside a framing walk of the same bytes
measured in the same run (the ratio survives a noisy machine).

Options:
  --only LIST        decoders to run, comma-separated: native,itch,tops (default all)
  --rounds N         timed rounds after one warm-up; best and median are printed (default 5)
  --messages N       native messages, and synthetic ITCH order-flow messages (default 2000000)
  --tops-passes N    passes over the real IEX TOPS sample per round (default 20)
  --out FILE         where the JSON goes (default bench/results/decode.json)
  --help             this text`

const DECODERS = ['native', 'itch', 'tops']

interface Options { only: string[]; rounds: number; messages: number; topsPasses: number; out: string }

function options(): Options {
  let parsed
  try {
    parsed = parseArgs({ options: {
      only: { type: 'string', default: DECODERS.join(',') }, rounds: { type: 'string', default: '5' },
      messages: { type: 'string', default: '2000000' }, 'tops-passes': { type: 'string', default: '20' },
      out: { type: 'string', default: 'bench/results/decode.json' }, help: { type: 'boolean', short: 'h' },
    } })
  } catch (e) { return usageError((e as Error).message) }
  const a = parsed.values
  if (a.help === true) { console.log(USAGE); process.exit(0) }
  const int = (name: string, v: string): number => {
    const n = Number(v)
    return Number.isInteger(n) && n >= 1 ? n : usageError(`--${name} must be an integer ≥ 1, got ${v}`)
  }
  const only = a.only.split(',').map((x) => x.trim()).filter((x) => x !== '')
  const bad = only.filter((x) => !DECODERS.includes(x))
  if (bad.length > 0 || only.length === 0) usageError(`--only takes ${DECODERS.join(', ')}; got ${a.only}`)
  return { only, rounds: int('rounds', a.rounds), messages: int('messages', a.messages), topsPasses: int('tops-passes', a['tops-passes']), out: a.out }
}

function usageError(why: string): never { console.error(`${why}\n\n${USAGE}`); process.exit(2) }

function main(): void {
  const opts = options()
  const root = repoRoot(), rounds = opts.rounds
  const results: Result[] = [], baselines: Result[] = []

  if (opts.only.includes('native')) {
    const native = nativeFlow(opts.messages)
    baselines.push(measure('native', rounds, () => framingWalk(native)))
    results.push(measure('native', rounds, () => decodeBinaryFile(native, new NativeDecoder(sink, new FeedStats('bench')))))
  }

  let book = { live: 0, bytesPerLiveOrder: 0, bytesTotal: 0 }
  if (opts.only.includes('itch')) {
    const dir = readFileSync(path.join(root, 'feeds/samples/itch50/bekele-first1000.itch')), flow = syntheticOrderFlow(opts.messages)
    baselines.push(measure('itch+book', rounds, () => framingWalk(dir) + framingWalk(flow)))
    results.push(measure('itch+book', rounds, () => {
      // default sizing (the table grows as a day's book would): bytes per live order is what a real day costs
      const dec = new ItchDecoder(sink, new FeedStats('bench'), { sessionDate: '2023-08-22' })
      const n = decodeBinaryFile(dir, dec) + decodeBinaryFile(flow, dec)
      book = { live: dec.book.liveOrders, bytesPerLiveOrder: Number(dec.book.bytesPerLiveOrder().toFixed(1)), bytesTotal: dec.book.bytesTotal() }
      return n
    }))
  }

  if (opts.only.includes('tops')) {
    const tops = loadCapture(readFileSync(path.join(root, 'feeds/samples/iex-tops16/TOPS16.pcapng.gz')))
    const topsDec: PayloadDecoder = new TopsDecoder(sink, new FeedStats('bench')) // symbol cache warm after the first round, as in a live session
    const TOPS_PASSES = opts.topsPasses
    baselines.push(measure('tops', rounds, () => {
      const { buf, off, count } = tops
      let sum = 0
      for (let p = 0; p < TOPS_PASSES; p++) for (let i = 0; i < count; i++) sum += buf[off[i]]
      typeSum += sum
      return count * TOPS_PASSES
    }))
    results.push(measure('tops', rounds, () => {
      const { buf, off, len, count } = tops
      for (let p = 0; p < TOPS_PASSES; p++) for (let i = 0; i < count; i++) topsDec.decode(buf, off[i], len[i])
      return count * TOPS_PASSES
    }))
  }

  const fmt = (v: number): string => v.toLocaleString('en-US')
  console.log('decoder      messages/round   best msg/s     median msg/s   framing walk msg/s   decode / framing')
  for (const [k, r] of results.entries()) {
    const b = baselines[k]
    console.log(`${r.name.padEnd(12)} ${fmt(r.messages).padStart(14)} ${fmt(r.bestMsgsPerSec).padStart(14)} ${fmt(r.medianMsgsPerSec).padStart(16)} ${fmt(b.medianMsgsPerSec).padStart(20)} ${(r.medianMsgsPerSec / b.medianMsgsPerSec).toFixed(3).padStart(18)}`)
  }
  if (typeSum === 0) throw new Error('framing walk read nothing')
  if (opts.only.includes('itch')) console.log(`itch book: ${fmt(book.live)} live orders, ${book.bytesPerLiveOrder} bytes per live order (${fmt(book.bytesTotal)} bytes of book)`)
  const out = { date: new Date().toISOString(), node: process.version, cpu: (process.env.BENCH_CPU ?? ''), options: opts, results, baselines, itchBook: book, sinkCounts: counts }
  const file = path.resolve(root, opts.out)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
}

main()
