// Benchmark: native quotes over loopback TCP through the real ingest (session → framer → decode → ring → LVC),
// against the raw TCP read rate of the same bytes in the same run. Never used by the server itself.
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { LastValueCache } from '../src/cache/last-value-cache.js'
import { LatestValues } from '../src/cache/latest-values.js'
import { Dispatcher } from '../src/fanout/dispatcher.js'
import { NativeDecoder } from '../src/feed/decoders/native.js'
import { writeQuote, writeSymbolDirectory } from '../feeds/native-encoder.js'
import { FeedIngest } from '../src/feed/feed-ingest.js'
import { FeedStats } from '../src/feed/feed-stats.js'
import { SESSION_END } from '../src/feed/session-sink.js'
import { SoupClient } from '../src/feed/soup-client.js'
import { PKT_END_OF_SESSION, writeEmpty, writeLoginAccepted, writeLoginRequest, writeSequencedHeader, LOGIN_REQUEST_BYTES } from '../src/feed/soupbin.js'
import { SymbolTable } from '../src/model/symbols.js'
import { SharedSymbols } from '../src/model/shared-symbols.js'
import { Normalizer } from '../src/normalize/normalizer.js'
import { SymbolSequences } from '../src/normalize/symbol-sequences.js'
import { TickRing } from '../src/ring/ring-buffer.js'

const USAGE = `Usage: npm run bench:ingest -- [options]

Native quotes over loopback TCP through the real ingest (SoupBinTCP session → framer → decode → normalize → ring, with
the fan-out dispatcher draining the ring on the same thread), beside a raw read of the same bytes, alternating.

Options:
  --quotes N    quotes in the stream the sender repeats (default 2000000)
  --passes N    times the sender sends the stream per run (default 10)
  --rounds N    raw/ingest pairs; the median row is printed last (default 3)
  --symbols N   symbols (default 500)
  --help        this text

Columns: ingest msgs/s is wall clock (first byte to End of Session); per CPU-second counts the whole process (socket
reads, ingest and dispatcher); the ingest-stage rate counts only the CPU time inside the session's chunk handler
(framer → decode → normalize → ring writer), the path issue 12's 20 M/s target names.
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

function buildStream(): { directory: Buffer; quotes: Buffer } {
  const dir = Buffer.alloc(SYMBOLS * 43)
  let o = 0
  for (let s = 1; s <= SYMBOLS; s++) { o += writeSequencedHeader(dir, o, 40); o += writeSymbolDirectory(dir, o, s, 1.7e15, 0, `SYM${s}`, -4, 0, 100, 1) }
  const q = Buffer.alloc(QUOTES * 51)
  let p = 0, x = 12345
  for (let k = 0; k < QUOTES; k++) {
    x = (x * 1103515245 + 12345) >>> 0 // skewed symbol choice: low ids busier
    const sym = 1 + Math.floor(((x / 4294967296) ** 3) * SYMBOLS)
    const mid = 1000000 + (x & 0xffff)
    p += writeSequencedHeader(q, p, 48)
    p += writeQuote(q, p, sym, 1.7e15 + k, 0, 0, mid - 100, 100 + (x & 0xff), mid + 100, 200)
  }
  return { directory: dir.subarray(0, o), quotes: q.subarray(0, p) }
}

/** Child process: a minimal SoupBinTCP server that logs a client in and blasts the stream PASSES times. */
async function runSender(): Promise<void> {
  const { directory, quotes } = buildStream()
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
function rawRead(port: number): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    // Same read path as the SoupClient (one reusable 256 KiB buffer), so the baseline is the best raw read.
    let bytes = 0, t0 = 0
    const sock = net.connect({ port, host: '127.0.0.1', onread: { buffer: Buffer.allocUnsafe(256 * 1024), callback: (n: number) => { if (t0 === 0) t0 = performance.now(); bytes += n; return true } } })
    sock.on('connect', () => { const b = Buffer.alloc(LOGIN_REQUEST_BYTES); writeLoginRequest(b, 0, '', '', '', 1); sock.write(b) })
    sock.on('end', () => resolve({ seconds: (performance.now() - t0) / 1000, bytes }))
    sock.on('error', reject)
  })
}

function ingest(port: number): Promise<{ seconds: number; cpuSeconds: number; stageSeconds: number; messages: number; lvcChecks: number }> {
  const shared = new SharedSymbols(SYMBOLS + 16), symbols = new SymbolTable(shared), ring = new TickRing(1 << 20), lvc = new LastValueCache(SYMBOLS + 16)
  const seqs = new SymbolSequences(SYMBOLS + 16)
  seqs.latest = new LatestValues(SYMBOLS + 16) // as on the ingest thread: the normalizer also keeps the latest values
  const normalizer = new Normalizer(ring, shared, seqs)
  const stats = new FeedStats('bench')
  const noSubscribers = { wants: () => false, publish: () => {}, symbolAdded: () => {} }
  const dispatcher = new Dispatcher(ring, lvc, symbols, seqs, noSubscribers, null)
  return new Promise((resolve) => {
    let t0 = 0, cpu0 = process.cpuUsage(), chunkCpu = cpu0, stageUs = 0
    const sink = new FeedIngest(new NativeDecoder(normalizer, stats), normalizer)
    // The CPU time spent inside the session's chunk handler is the ingest stage's: CPU, not wall clock, so time this
    // process spends preempted on a loaded machine is not counted. Two getrusage calls per 256 KiB chunk (≈ 5,000 quotes).
    const timed = {
      beginBatch: (ms: number) => { if (t0 === 0) { t0 = ms; cpu0 = process.cpuUsage() } chunkCpu = process.cpuUsage(); sink.beginBatch(ms) },
      message: sink.message.bind(sink),
      endBatch: () => { sink.endBatch(); const d = process.cpuUsage(chunkCpu); stageUs += d.user + d.system },
    }
    const client = new SoupClient({ name: 'bench', host: '127.0.0.1', port, username: '', password: '' }, timed, stats, (ev) => {
      if (ev.kind !== SESSION_END) return
      const seconds = (performance.now() - t0) / 1000
      const cpu = process.cpuUsage(cpu0), cpuSeconds = (cpu.user + cpu.system) / 1e6
      // the session ended: let the fan-out finish what is left (each drain is bounded), then stop it
      for (let k = 0; k < 10_000 && dispatcher.stats.events + dispatcher.stats.lapped < ring.cursor + 1; k++) dispatcher.drain()
      dispatcher.stop()
      const errors = stats.decodeErrors.reduce((a, b) => a + b, 0)
      if (errors > 0 || dispatcher.stats.lapped > 0) throw new Error(`bench invalid: ${errors} decode errors [${stats.decodeErrors.join(",")}], ${dispatcher.stats.lapped} lapped`)
      resolve({ seconds, cpuSeconds, stageSeconds: stageUs / 1e6, messages: stats.messages, lvcChecks: dispatcher.stats.events }) // every message is one ring event: a directory entry its KIND_SYMBOL
    })
    client.start()
  })
}

async function main(): Promise<void> {
  if (IS_SENDER) return runSender()
  const child = fork(fileURLToPath(import.meta.url), ['--sender', '1', '--quotes', String(QUOTES), '--passes', String(PASSES), '--symbols', String(SYMBOLS)])
  const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)))
  const rows: Array<{ round: number; rawMBps: number; rawMsgsPerSec: number; ingestMsgsPerSec: number; ingestMsgsPerCpuSec: number; stageMsgsPerSec: number; ratio: number }> = []
  for (let round = 1; round <= ROUNDS; round++) {
    const raw = await rawRead(port)
    const ing = await ingest(port)
    if (ing.lvcChecks !== ing.messages) throw new Error(`dispatcher applied ${ing.lvcChecks} of ${ing.messages} messages`)
    const rawMsgs = raw.bytes / 51 / raw.seconds, ingMsgs = ing.messages / ing.seconds
    rows.push({ round, rawMBps: raw.bytes / raw.seconds / 1e6, rawMsgsPerSec: rawMsgs, ingestMsgsPerSec: ingMsgs, ingestMsgsPerCpuSec: ing.messages / ing.cpuSeconds, stageMsgsPerSec: ing.messages / ing.stageSeconds, ratio: ingMsgs / rawMsgs })
  }
  child.send('stop')
  const med = (k: keyof (typeof rows)[0]) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)]
  console.log(`ingest bench: ${QUOTES * PASSES + SYMBOLS} native messages per run (51 B framed), ${SYMBOLS} symbols, ${ROUNDS} rounds alternating raw/ingest`)
  console.log('round | raw TCP MB/s | raw TCP msgs/s (same bytes) | ingest msgs/s | ingest msgs per CPU-second | ingest stage msgs/s | ingest / raw')
  const M = (v: number): string => `${(v / 1e6).toFixed(2)} M`
  for (const r of rows) console.log(`${r.round} | ${r.rawMBps.toFixed(0)} | ${M(r.rawMsgsPerSec)} | ${M(r.ingestMsgsPerSec)} | ${M(r.ingestMsgsPerCpuSec)} | ${M(r.stageMsgsPerSec)} | ${r.ratio.toFixed(2)}`)
  console.log(`median | ${med('rawMBps').toFixed(0)} | ${M(med('rawMsgsPerSec'))} | ${M(med('ingestMsgsPerSec'))} | ${M(med('ingestMsgsPerCpuSec'))} | ${M(med('stageMsgsPerSec'))} | ${med('ratio').toFixed(2)}`)
  writeFileSync('bench/results/ingest.json', JSON.stringify({ date: new Date().toISOString(), quotes: QUOTES, passes: PASSES, symbols: SYMBOLS, rows }, null, 2))
}

await main()
