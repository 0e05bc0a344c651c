// Owns the ingest thread: every feed's sessions, framer, decoder, books and normalizer, writing the shared ring.
// Must never wait for a reader or serve clients: it reads each feed as fast as it arrives, whatever fan-out does.
import { parentPort, workerData } from 'node:worker_threads'
import { LatestValues } from '../cache/latest-values.js'
import { BootError } from '../errors.js'
import { Feed } from '../feed/feed.js'
import { createLogger } from '../log.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { SymbolSequences } from '../normalize/symbol-sequences.js'
import { TickRing } from '../ring/ring-buffer.js'
import type { FromIngest, IngestWorkerData, ToIngest } from './ingest-protocol.js'

const port = parentPort!
const data = workerData as IngestWorkerData
const post = (m: FromIngest): void => port.postMessage(m)

// One clock for both threads: ring receive times (the age histograms), the feeds' last-receive times (/readyz) and
// markers are compared with the main thread's performance.now(), whose origin is earlier than this thread's.
const shift = performance.timeOrigin - data.timeOrigin
const localNow = performance.now.bind(performance)
performance.now = (): number => localNow() + shift

const log = createLogger(data.logLevel).child({ thread: 'ingest' })
// The main thread allocated these; this thread is their only writer.
const ring = new TickRing(data.ring.capacity, data.ring)
const symbols = new SharedSymbols(data.symbols.capacity, data.symbols)
const seqs = new SymbolSequences(data.seqs.capacity, data.seqs)
seqs.latest = new LatestValues(data.latest.capacity, data.latest) // every normalizer keeps them beside the ring slot

let feeds: Feed[] = []
try {
  feeds = data.feeds.map((fc, k) => new Feed(fc, ring, symbols, seqs, data.timing, log, { ownership: { index: k + 1, claims: data.claims } }))
} catch (e) {
  post({ t: 'failed', message: (e as Error).message, code: e instanceof BootError ? e.code : 'INGEST' })
  port.close()
}

const stopped = new Set<number>()
const stopFeed = async (k: number): Promise<void> => { if (!stopped.has(k)) { stopped.add(k); await feeds[k].stop() } }
const sendStats = (): void => post({ t: 'stats', feeds: feeds.map((f) => f.stats) })
let timer: NodeJS.Timeout | null = null
/** Until every feed has logged in (the first second at most), counters go out every few ms: /readyz and the start
 * banner learn of a login at once, not up to statsIntervalMs later (fast start, issue 15). */
let early: NodeJS.Timeout | null = null
const EARLY_STATS_MS = 5, EARLY_STATS_MAX = 200

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  if (timer !== null) clearInterval(timer)
  if (early !== null) clearInterval(early)
  await Promise.all(feeds.map((_, k) => stopFeed(k)))
  sendStats()
  post({ t: 'stopped' })
  port.close()
}

port.on('message', (m: ToIngest) => {
  if (m.t === 'stop') void stop()
  else if (m.t === 'stopFeed') void stopFeed(m.index).then(() => { sendStats(); post({ t: 'feedStopped', index: m.index }) })
})
if (feeds.length === data.feeds.length) {
  for (const f of feeds) f.start()
  timer = setInterval(sendStats, data.statsIntervalMs)
  let sent = 0
  early = setInterval(() => {
    sendStats()
    if (++sent >= EARLY_STATS_MAX || feeds.every((f) => f.stats.loggedIn === 1)) { clearInterval(early!); early = null }
  }, EARLY_STATS_MS)
  post({ t: 'started' })
}
