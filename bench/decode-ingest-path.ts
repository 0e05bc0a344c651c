// Owns the socket-free run of the ingest path for instruction counts: the real SoupClient's chunk handler (framer →
// session → decode → normalize → ring + latest values) over in-memory 256 KiB chunks. Never used by the server.
// Usage: node dist/bench/decode-ingest-path.js [quotes] [passes]; under callgrind, run two sizes and take the
// difference per quote (start-up cancels): valgrind --tool=callgrind --callgrind-out-file=/dev/null node … 
import { LatestValues } from '../src/cache/latest-values.js'
import { NativeDecoder } from '../src/feed/decoders/native.js'
import { FeedIngest } from '../src/feed/feed-ingest.js'
import { FeedStats } from '../src/feed/feed-stats.js'
import { SoupClient } from '../src/feed/soup-client.js'
import { writeLoginAccepted } from '../src/feed/soupbin.js'
import { SharedSymbols } from '../src/model/shared-symbols.js'
import { Normalizer } from '../src/normalize/normalizer.js'
import { SymbolSequences } from '../src/normalize/symbol-sequences.js'
import { TickRing } from '../src/ring/ring-buffer.js'
import { buildStream } from './decode-stream.js'

const QUOTES = Number(process.argv[2] ?? 200000), PASSES = Number(process.argv[3] ?? 1), SYMBOLS = 500, CHUNK = 256 * 1024
/** how far down the path: copy (the harness alone), session (frames only), decode (into a counting sink), ring (no latest values), full;
 * general: full without the fused path for runs of quotes (normalize/quote-run.ts) */
const STAGE = process.argv[4] ?? 'full'
const { directory, quotes } = buildStream(QUOTES, SYMBOLS)
const shared = new SharedSymbols(SYMBOLS + 16), ring = new TickRing(1 << 20), seqs = new SymbolSequences(SYMBOLS + 16)
if (STAGE === 'full' || STAGE === 'general') seqs.latest = new LatestValues(SYMBOLS + 16) // as on the ingest thread
const stats = new FeedStats('bench'), normalizer = new Normalizer(ring, shared, seqs)
let counted = 0
const counting = { defineSymbol: () => 0, locateOf: () => 0, quote: () => { counted++; return 0 }, trade: () => 0, status: () => 0 }
const decoder = new NativeDecoder(STAGE === 'decode' ? counting : normalizer, stats)
const ingest = new FeedIngest(decoder, normalizer)
// 'general': the same ingest without its fused path for runs of quotes (a sink with no take()), the layered path alone
const general = { beginBatch: ingest.beginBatch.bind(ingest), message: ingest.message.bind(ingest), endBatch: ingest.endBatch.bind(ingest) }
const sink = STAGE === 'session' ? { beginBatch: () => {}, message: () => { counted++ }, endBatch: () => {} } : STAGE === 'general' ? general : ingest
const client = new SoupClient({ name: 'bench', host: '127.0.0.1', port: 1, username: '', password: '' }, sink, stats)
// No socket: the session is put where a login leaves it, and its (private) chunk handler gets the bytes a read would.
const c = client as unknown as { state: number; onData(chunk: Buffer): void }
c.state = 2 // logging in
const head = Buffer.alloc(33); writeLoginAccepted(head, 0, 'BENCH', 1)
c.onData(head); c.onData(directory)
// Chunks cut at fixed 256 KiB offsets like socket reads, so frames split across chunks go through the carry buffer.
const chunk = Buffer.allocUnsafe(CHUNK)
// A server's ring is touched once at start and then reused: fault its pages in now, as a long-running server has.
if (process.env.COLD_RING === undefined) for (const col of [ring.kind, ring.code, ring.symbolId, ring.symbolSeq, ring.exchTimeUs, ring.recvTimeMs, ring.bidPrice, ring.bidSize, ring.askPrice, ring.askSize, ring.tradePrice, ring.tradeSize, ring.tradeId]) col.fill(0)
const cpu0 = process.cpuUsage()
for (let p = 0; p < PASSES; p++) {
  for (let o = 0; o < quotes.length; o += CHUNK) {
    const n = Math.min(CHUNK, quotes.length - o)
    quotes.copy(chunk, 0, o, o + n)
    if (STAGE !== 'copy') c.onData(chunk.subarray(0, n))
  }
  process.cpuUsage() // a mark per pass: under callgrind --dump-before=uv_getrusage each pass is its own dump (steady state)
}
const cpu = process.cpuUsage(cpu0), sec = (cpu.user + cpu.system) / 1e6
const errors = stats.decodeErrors.reduce((a, b) => a + b, 0)
const events = STAGE === 'copy' ? stats.messages : STAGE === 'session' ? counted : STAGE === 'decode' ? counted + SYMBOLS : ring.cursor + 1
if (events !== stats.messages || errors > 0) throw new Error(`${events} events for ${stats.messages} messages, ${errors} decode errors`)
console.log(`${QUOTES * PASSES} quotes in ${sec.toFixed(3)} CPU-s: ${(QUOTES * PASSES / sec / 1e6).toFixed(2)} M quotes per CPU-second (process, in memory, stage ${STAGE})`)
