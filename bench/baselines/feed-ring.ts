// Owns the baselines' feed side: the same simulator over SoupBinTCP through tickcast's own Feed into a ring.
// Must never fan out: it hands each new ring slot to a callback once per event-loop turn, nothing more.
import { createLogger } from '../../src/log.js'
import { Feed } from '../../src/feed/feed.js'
import { SharedSymbols } from '../../src/model/shared-symbols.js'
import { SymbolTable } from '../../src/model/symbols.js'
import { SymbolSequences } from '../../src/normalize/symbol-sequences.js'
import { LAST_DATA_KIND, TickRing } from '../../src/ring/ring-buffer.js'

export interface FeedRing { ring: TickRing; symbols: SymbolTable; feed: Feed }

/** Connects to the simulator at feedPort; `onSlot(ring, i)` runs for every data event, in order, in batches. */
export function startFeedRing(feedPort: number, onSlot: (r: TickRing, i: number) => void, onBatchEnd: () => void): FeedRing {
  const shared = new SharedSymbols(65536), symbols = new SymbolTable(shared), seqs = new SymbolSequences(65536), ring = new TickRing(1 << 20)
  const log = createLogger('warn')
  const feed = new Feed({ name: 'sim', protocol: 'native', lines: [{ host: '127.0.0.1', port: feedPort }], username: '', password: '', session: '', startSeq: 1 },
    ring, shared, seqs, { heartbeatIntervalMs: 1000, deadAfterMs: 15_000, staleAfterMs: 5000 }, log)
  let readSeq = -1, scheduled = false
  const drain = (): void => {
    scheduled = false
    const end = ring.cursor
    let seq = readSeq + 1
    if (end - seq >= ring.capacity) seq = end - ring.capacity + 1
    for (; seq <= end; seq++) {
      const i = seq & ring.mask
      if (ring.symbolId[i] >= symbols.size) symbols.learnUpTo(ring.symbolId[i]) // learned from the ring, as tickcast does
      if (ring.kind[i] <= LAST_DATA_KIND) onSlot(ring, i)
    }
    readSeq = end
    onBatchEnd()
  }
  ring.wake = () => { if (!scheduled) { scheduled = true; setImmediate(drain) } }
  feed.start()
  return { ring, symbols, feed }
}

export function argValue(name: string, def: string): string {
  const k = process.argv.indexOf(`--${name}`)
  return k >= 0 && k + 1 < process.argv.length ? process.argv[k + 1] : def
}
