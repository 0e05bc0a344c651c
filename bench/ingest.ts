// Benchmark: native quotes over loopback TCP through the real ingest path (session → framer → decode → normalize → ring
// and latest values), against the raw TCP read of the same bytes in the same run, both per CPU-second of the thread that
// reads. Never used by the server itself.
import { fork } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { LatestValues } from '../src/cache/latest-values.js'
import { NativeDecoder } from '../src/feed/decoders/native.js'
import { FeedIngest } from '../src/feed/feed-ingest.js'
import { FeedStats } from '../src/feed/feed-stats.js'
import { SESSION_END } from '../src/feed/session-sink.js'
import { SoupClient } from '../src/feed/soup-client.js'
import { PKT_END_OF_SESSION, writeEmpty, writeLoginAccepted, writeLoginRequest, LOGIN_REQUEST_BYTES } from '../src/feed/soupbin.js'
import { SharedSymbols } from '../src/model/shared-symbols.js'
import { Normalizer } from '../src/normalize/normalizer.js'
import { SymbolSequences } from '../src/normalize/symbol-sequences.js'
import { TickRing } from '../src/ring/ring-buffer.js'
import { FRAMED_QUOTE_BYTES, buildStream } from './decode-stream.js'

const USAGE = `Usage: npm run bench:ingest -- [options]

Native quotes over loopback TCP through the real ingest path (SoupBinTCP session → framer → decode → normalize → ring,
keeping the latest values as the ingest thread does), beside a raw read of the same bytes, alternating, one thread.

Options:
  --quotes N    quotes in the stream the sender repeats (default 2000000)
  --passes N    times the sender sends the stream per run (default 10)
  --rounds N    raw/ingest pairs; the median row is printed last (default 3)
  --symbols N   symbols (default 500)
  --help        this text

Columns: "msgs/s" is wall clock (first byte to End of Session), which on a shared machine says as much about the other
processes as about this one. "per CPU-second" divides by the CPU time (user + system) of the one thread that reads the
socket, so it is roughly load-independent: raw = the socket reads alone; ingest = socket reads plus the whole ingest
path (issue 12's 20 M/s target, "end to end on one core"); stage = only the CPU inside the session's chunk handler
(framer → decode → normalize → ring), from a third run of each round that reads the thread's CPU around every chunk
(two getrusage calls per read: reads are ~15 KB here, so the end-to-end run has none). Fan-out is not in the path: it reads the ring on another thread
(--ingest-thread). The ring is created once and its pages faulted in before the first round, as a running server's are.
Writes bench/results/ingest.json.`
function parse(): { sender: boolean; QUOTES: number; PASSES: number; ROUNDS: number; SYMBOLS: number } {
  let parsed
  try {
    parsed = parseArgs({ options: {
      sender: { type: 'string' }, quotes: { type: 'string', default: '2000000' }, passes: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' }, symbols: { type: 'string', default: '500' }, help: { type: 'boolean', short: 'h' },
    } })
  } catch (e) { console.error(`${(e as Error).message}\n\n${USAGE}`); process.exit(2) }
  const a = parsed.values
  if (a.help === true) { console.log(USAGE); process.exit(0) }
  const int = (name: string, v: string, min: number): number => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min) { console.error(`--${name} must be an integer ≥ ${min}, got ${v}\n\n${USAGE}`); process.exit(2) }
    return n
  }
  return { sender: a.sender !== undefined, QUOTES: int('quotes', a.quotes, 1), PASSES: int('passes', a.passes, 1), ROUNDS: int('rounds', a.rounds, 1), SYMBOLS: int('symbols', a.symbols, 1) }
}
const { sender: IS_SENDER, QUOTES, PASSES, ROUNDS, SYMBOLS } = parse()

/**
 * CPU seconds (user + system) of the calling thread: /proc/thread-self/schedstat (ns, exact to the last scheduler
 * tick), so other threads of the process (V8's compiler and GC helpers) are not counted; process CPU elsewhere.
 */
function threadCpuSeconds(): number {
  try { const s = readFileSync('/proc/thread-self/schedstat', 'latin1'); return Number(s.slice(0, s.indexOf(' '))) / 1e9 } catch {
    const u = process.cpuUsage(); return (u.user + u.system) / 1e6
  }
}

/** Child process: a minimal SoupBinTCP server that logs a client in and blasts the stream PASSES times. */
async function runSender(): Promise<void> {
  const { directory, quotes } = buildStream(QUOTES, SYMBOLS)
  const server = net.createServer((sock) => {
    sock.setNoDelay(true)
    sock.once('data', async () => {
      const head = Buffer.alloc(33); writeLoginAccepted(head, 0, 'BENCH', 1)
      sock.write(head); sock.write(directory)
      for (let k = 0; k < PASSES; k++) if (!sock.write(quotes)) await new Promise((r) => sock.once('drain', r))
      const end = Buffer.alloc(3); writeEmpty(end, 0, PKT_END_OF_SESSION)
      sock.end(end)
    })
    sock.on('error', () => {})
  })
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }))
  process.on('message', (m) => { if (m === 'stop') server.close(() => process.exit(0)) })
  process.on('disconnect', () => process.exit(0)) // never outlive the parent, even when it crashed
}

/** Baseline: read the same bytes from the same sender and do nothing with them. */
function rawRead(port: number): Promise<{ seconds: number; cpuSeconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    // Same read path as the SoupClient (one reusable 256 KiB buffer), so the baseline is the best raw read.
    let bytes = 0, t0 = 0, cpu0 = 0
    const first = (): void => { t0 = performance.now(); cpu0 = threadCpuSeconds() }
    const sock = net.connect({ port, host: '127.0.0.1', onread: { buffer: Buffer.allocUnsafe(256 * 1024), callback: (n: number) => { if (t0 === 0) first(); bytes += n; return true } } })
    sock.on('connect', () => { const b = Buffer.alloc(LOGIN_REQUEST_BYTES); writeLoginRequest(b, 0, '', '', '', 1); sock.write(b) })
    sock.on('end', () => resolve({ seconds: (performance.now() - t0) / 1000, cpuSeconds: threadCpuSeconds() - cpu0, bytes }))
    sock.on('error', reject)
  })
}

/** The ingest thread's shared state, made once: a server keeps one ring for its life, so its pages are faulted in. */
interface Path { ring: TickRing; shared: SharedSymbols; seqs: SymbolSequences }
function makePath(): Path {
  const shared = new SharedSymbols(SYMBOLS + 16), ring = new TickRing(1 << 20), seqs = new SymbolSequences(SYMBOLS + 16)
  seqs.latest = new LatestValues(SYMBOLS + 16) // as on the ingest thread: the normalizer also keeps the latest values
  for (const col of [ring.kind, ring.code, ring.symbolId, ring.symbolSeq, ring.exchTimeUs, ring.recvTimeMs, ring.bidPrice,
    ring.bidSize, ring.askPrice, ring.askSize, ring.tradePrice, ring.tradeSize, ring.tradeId]) col.fill(0)
  return { ring, shared, seqs }
}

function ingest(port: number, path: Path, timeStage: boolean): Promise<{ seconds: number; cpuSeconds: number; stageSeconds: number; messages: number; events: number }> {
  const { ring, shared, seqs } = path
  const normalizer = new Normalizer(ring, shared, seqs)
  const stats = new FeedStats('bench'), cursor0 = ring.cursor
  return new Promise((resolve, reject) => {
    let t0 = 0, cpu0 = 0, chunkCpu = process.cpuUsage(), stageUs = 0
    const sink = new FeedIngest(new NativeDecoder(normalizer, stats), normalizer)
    // The CPU time spent inside the session's chunk handler is the ingest stage's: CPU, not wall clock, so time this
    // thread spends preempted on a loaded machine is not counted. Two getrusage calls per read (reads of ~15 KB,
    // ≈ 300 quotes: ~7 ns per quote, so only the staged run pays them); nothing else runs in this process
    // meanwhile, so process CPU is this thread's.
    const first = (ms: number): void => { t0 = ms; cpu0 = threadCpuSeconds() }
    const timed = !timeStage ? {
      beginBatch: (ms: number) => { if (t0 === 0) first(ms); sink.beginBatch(ms) },
      message: sink.message.bind(sink), endBatch: sink.endBatch.bind(sink), take: sink.take, get taken() { return sink.taken },
    } : {
      beginBatch: (ms: number) => { if (t0 === 0) first(ms); chunkCpu = process.cpuUsage(); sink.beginBatch(ms) },
      message: sink.message.bind(sink),
      take: sink.take, get taken() { return sink.taken }, // the fused path for runs of quotes (normalize/quote-run.ts)
      endBatch: () => { sink.endBatch(); const d = process.cpuUsage(chunkCpu); stageUs += d.user + d.system },
    }
    const client = new SoupClient({ name: 'bench', host: '127.0.0.1', port, username: '', password: '' }, timed, stats, (ev) => {
      if (ev.kind !== SESSION_END) return
      const seconds = (performance.now() - t0) / 1000, cpuSeconds = threadCpuSeconds() - cpu0
      const errors = stats.decodeErrors.reduce((a, b) => a + b, 0)
      if (errors > 0) reject(new Error(`bench invalid: ${errors} decode errors [${stats.decodeErrors.join(',')}]`))
      resolve({ seconds, cpuSeconds, stageSeconds: stageUs / 1e6, messages: stats.messages, events: ring.cursor - cursor0 })
    })
    client.start()
  })
}

async function main(): Promise<void> {
  if (IS_SENDER) return runSender()
  const child = fork(fileURLToPath(import.meta.url), ['--sender', '1', '--quotes', String(QUOTES), '--passes', String(PASSES), '--symbols', String(SYMBOLS)])
  const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)))
  const rows: Array<{ round: number; rawMBps: number; rawMsgsPerSec: number; rawMsgsPerCpuSec: number; ingestMsgsPerSec: number; ingestMsgsPerCpuSec: number; stageMsgsPerCpuSec: number; ratio: number }> = []
  const path = makePath()
  for (let round = 1; round <= ROUNDS; round++) {
    const raw = await rawRead(port)
    const ing = await ingest(port, path, false), staged = await ingest(port, path, true)
    // every message is one ring event (a directory entry its KIND_SYMBOL the first run, its redefinition none after)
    for (const [k, r] of [ing, staged].entries()) {
      if (r.events !== r.messages - (round === 1 && k === 0 ? 0 : SYMBOLS)) throw new Error(`the ring got ${r.events} events for ${r.messages} messages`)
    }
    const rawMsgs = raw.bytes / FRAMED_QUOTE_BYTES
    rows.push({
      round, rawMBps: raw.bytes / raw.seconds / 1e6, rawMsgsPerSec: rawMsgs / raw.seconds, rawMsgsPerCpuSec: rawMsgs / raw.cpuSeconds,
      ingestMsgsPerSec: ing.messages / ing.seconds, ingestMsgsPerCpuSec: ing.messages / ing.cpuSeconds, stageMsgsPerCpuSec: staged.messages / staged.stageSeconds,
      ratio: (ing.messages / ing.cpuSeconds) / (rawMsgs / raw.cpuSeconds),
    })
  }
  child.send('stop')
  const med = (k: keyof (typeof rows)[0]) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)]
  console.log(`ingest bench: ${QUOTES * PASSES + SYMBOLS} native messages per run (${FRAMED_QUOTE_BYTES} B framed), ${SYMBOLS} symbols, ${ROUNDS} rounds alternating raw/ingest, one thread; per CPU-second = that thread's CPU`)
  console.log('round | raw TCP MB/s | raw msgs/s (same bytes) | raw msgs per CPU-second | ingest msgs/s | ingest msgs per CPU-second | ingest stage msgs per CPU-second | ingest / raw per CPU-second')
  const M = (v: number): string => `${(v / 1e6).toFixed(2)} M`
  for (const r of rows) console.log(`${r.round} | ${r.rawMBps.toFixed(0)} | ${M(r.rawMsgsPerSec)} | ${M(r.rawMsgsPerCpuSec)} | ${M(r.ingestMsgsPerSec)} | ${M(r.ingestMsgsPerCpuSec)} | ${M(r.stageMsgsPerCpuSec)} | ${r.ratio.toFixed(2)}`)
  console.log(`median | ${med('rawMBps').toFixed(0)} | ${M(med('rawMsgsPerSec'))} | ${M(med('rawMsgsPerCpuSec'))} | ${M(med('ingestMsgsPerSec'))} | ${M(med('ingestMsgsPerCpuSec'))} | ${M(med('stageMsgsPerCpuSec'))} | ${med('ratio').toFixed(2)}`)
  writeFileSync('bench/results/ingest.json', JSON.stringify({ date: new Date().toISOString(), quotes: QUOTES, passes: PASSES, symbols: SYMBOLS, rows }, null, 2))
}

await main()
