// A feed's silence (--feed-stale-after-ms) is judged on what was received, never on a stalled event loop: after a
// stall, timers run before the poll phase reads what arrived meanwhile, so a check right then would call a live feed
// silent. The simulator runs on a worker thread (the compiled embedded one: a venue is not stalled by our loop) over a
// real socket; this loop is blocked on purpose, then the feed really goes silent (its session ends).
import { afterEach, describe, expect, it } from 'vitest'
import type { EmbeddedSimulator, EmbeddedSimulatorOptions } from '../embedded-feed.js'
import { createLogger } from '../log.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { STALE_FEED_DOWN } from '../model/staleness.js'
import { SymbolSequences } from '../normalize/normalizer.js'
import { KIND_STALE, TickRing } from '../ring/ring-buffer.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'
import { Feed } from './feed.js'

const running: Array<() => Promise<unknown>> = []
afterEach(async () => { for (const stop of running.splice(0).reverse()) await stop() })

/** Blocks the event loop for `ms` (a GC pause, a long synchronous task elsewhere in the process). */
function block(ms: number): void { const end = performance.now() + ms; while (performance.now() < end) { /* busy */ } }

describe('feed freshness', () => {
  it('a blocked event loop is not a silent feed; a feed whose session ended is, within the configured time', async () => {
    // dist/ is built by vitest's global setup; a worker thread loads JavaScript only
    const embedded = '../../dist/feeds/sim/embedded.js'
    const { startEmbeddedSimulator } = await import(embedded) as { startEmbeddedSimulator(o: EmbeddedSimulatorOptions): Promise<EmbeddedSimulator> }
    const sim = await startEmbeddedSimulator({ port: 0, symbols: 10, rate: 2000, seed: 4 })
    running.push(() => sim.stop())
    const ring = new TickRing(1 << 16)
    const feed = new Feed({ name: 'sim', protocol: 'native', lines: [{ host: '127.0.0.1', port: sim.port }], username: '', password: '', session: '', startSeq: 1 },
      ring, new SharedSymbols(64), new SymbolSequences(64), { heartbeatIntervalMs: 100, deadAfterMs: 5000, staleAfterMs: 300 }, createLogger('silent'))
    running.push(() => feed.stop())
    feed.start()
    await waitFor(() => feed.stats.messages > 200, 5000, 'live data')
    const staleMarkers = (): number => { let n = 0; for (let s = 0; s <= ring.cursor; s++) if (ring.kind[s & ring.mask] === KIND_STALE) n++; return n }

    for (let k = 0; k < 3; k++) { block(700); await sleep(400) } // data keeps arriving: the stalls are ours, not the feed's
    expect(staleMarkers()).toBe(0)

    const before = feed.stats.messages
    await sleep(200)
    expect(feed.stats.messages).toBeGreaterThan(before) // still live after the stalls
    await sim.stop() // now the feed really is silent: End of Session, then nothing
    await waitFor(() => feed.stats.endOfSession === 1, 3000, 'End of Session')
    const endAt = performance.now()
    await waitFor(() => staleMarkers() === 10, 3000, 'feed_down on all 10 symbols')
    expect(performance.now() - endAt).toBeLessThan(300 + 2 * 250 + 500) // stale-after, up to two checks, slack
    for (let s = 0; s <= ring.cursor; s++) if (ring.kind[s & ring.mask] === KIND_STALE) expect(ring.code[s & ring.mask]).toBe(STALE_FEED_DOWN)
  })
})
