// Controlled overload, end to end: a feed offered faster than the fan-out can deliver (the main thread blocked in
// bursts) loses nothing upstream, and every subscriber's per-symbol stream is gap-free or told of each conflation.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { loadConfig } from '../config.js'
import type { StartSimulator } from '../embedded-feed.js'
import { createLogger } from '../log.js'
import type * as ServerModule_ from '../server.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'
type ServerModule = typeof ServerModule_

// The ingest thread is a worker, and workers load JavaScript only: the server (and the simulator, itself a worker so
// that blocking this thread never slows the feed) come from dist/, built by the global setup. Variables keep
// typecheck, which runs before any build, from looking for them.
const DIST_SERVER = '../../dist/src/server.js', DIST_SIM = '../../dist/feeds/sim/embedded.js'
const { startTickcast } = await import(DIST_SERVER) as ServerModule
const { startEmbeddedSimulator } = await import(DIST_SIM) as { startEmbeddedSimulator: StartSimulator }

const running: Array<() => Promise<unknown> | void> = []
afterEach(async () => { for (const stop of running.splice(0).reverse()) await stop() })

type Ev = Record<string, unknown> & { e: string; s: string; n: number }

/** A JSON client: every data event and trades_skipped notice, per symbol, in arrival order. */
function client(url: string, symbols: string[]): Promise<{ streams: Map<string, Ev[]>; ws: WebSocket }> {
  const ws = new WebSocket(`${url}?format=json`)
  running.push(() => ws.terminate())
  const streams = new Map<string, Ev[]>()
  const push = (e: Ev): void => { let a = streams.get(e.s); if (a === undefined) streams.set(e.s, a = []); a.push(e) }
  let acked = false
  ws.on('message', (d: Buffer) => {
    const m = JSON.parse(d.toString()) as Ev[] | Record<string, unknown>
    if (Array.isArray(m)) { for (const e of m) push(e); return }
    if (m.type === 'subscribed') acked = true
    if (m.type === 'trades_skipped') push({ e: 'trades_skipped', s: m.symbol as string, n: -1, count: m.count })
  })
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () => {
      ws.send(JSON.stringify({ op: 'subscribe', symbols }))
      void waitFor(() => acked, 5000, 'subscribe ack').then(() => resolve({ streams, ws }), reject)
    })
  })
}

/**
 * One symbol's stream explains itself: a data event is the one after the last, and the only jumps are snaps (a
 * conflation, or the slow-consumer ladder's catch-up) or a lapped stale marker. A trades_skipped is followed by a snap.
 * Returns the number of snaps after the first.
 */
function checkExplained(s: string, events: Ev[]): number {
  let last = -1, snaps = 0, owedSnap = false
  for (const e of events) {
    if (e.e === 'trades_skipped') { expect(e.count as number, `${s} trades_skipped`).toBeGreaterThan(0); owedSnap = true; continue }
    if (e.e === 'snap') { expect(e.n, `${s} snap after ${last}`).toBeGreaterThanOrEqual(last); if (last >= 0) snaps++; last = e.n; owedSnap = false; continue }
    expect(owedSnap, `${s}: trades_skipped not followed by its snap`).toBe(false)
    expect(last, `${s}: an event before the symbol's first snap`).toBeGreaterThanOrEqual(0)
    if (e.e === 'stale' && e.reason === 'lapped') { expect(e.n).toBeGreaterThanOrEqual(last); last = e.n; continue }
    if (e.e === 'stale' || e.e === 'fresh' || e.e === 'book') { expect(e.n, `${s} ${e.e} marker after ${last}`).toBe(last); continue }
    expect(e.n, `${s} ${e.e} after ${last}`).toBe(last + 1)
    last = e.n
  }
  return snaps
}

/** Keeps this (the server's main) thread busy for `ms`: nothing runs, not the dispatcher, not the clients. */
function block(ms: number): void { const end = performance.now() + ms; while (performance.now() < end) { /* blocked */ } }

describe('controlled overload (ingest on its own thread)', () => {
  it('a feed offered faster than fan-out can deliver: the feed loses nothing, every reader is gap-free or told, memory stays bounded', async () => {
    const rss0 = process.memoryUsage().rss
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--ring-capacity', '16384', '--max-symbols', '4096',
      '--sim-symbols', '200', '--sim-rate', '150000', '--ingest-thread', 'on', '--ws-max-backpressure-bytes', '4MiB', '--ws-slow-hard-limit-bytes', '64MiB'], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false, startSimulator: startEmbeddedSimulator })
    running.push(() => t.stop())
    expect(t.ingestThread).toBe(true)
    await waitFor(() => t.symbols.size >= 200 && t.lvc.hasQuote(t.symbols.idOf('AAPL')), 10_000, 'the universe quoted')
    const all = await client(t.url, ['*'])
    const few = await client(t.url, ['AAPL', 'MSFT', 'NVDA', 'TSLA'])

    // ~3 s of 150,000 messages/s while this thread spends most of its time blocked in bursts of 80–150 ms
    // (at 150 k/s one burst is 12,000–22,500 events: past half the 16,384-slot ring, where a reader conflates)
    let peakRss = 0, bursts = 0, seed = 7
    const until = performance.now() + 3000
    while (performance.now() < until) {
      seed = (seed * 1103515245 + 12345) >>> 0
      block(80 + (seed % 71)); bursts++
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
      await sleep(10 + (seed % 30))
    }

    // The feed: every sequence 1..N arrived once, in order, with no gap, however far behind the fan-out was.
    const feed = t.feeds[0].stats
    await t.feeds[0].stop() // its final counters come back with the stop
    expect(feed.messages).toBeGreaterThan(200_000)
    expect([feed.gaps, feed.missed]).toEqual([0, 0])
    expect(feed.nextSeqGauge - 1, 'sequences 1..N delivered once each').toBe(feed.messages)

    // Readers: the lapped fan-out conflated (it was told, and it told its subscribers), then caught up.
    const d = t.dispatcher.stats
    expect(d.laps).toBeGreaterThan(0)
    expect(d.conflations).toBeGreaterThan(0)
    await waitFor(() => t.dispatcher.position === t.ring.cursor, 10_000, 'the fan-out caught up')
    await sleep(300) // the last frames reach the clients
    peakRss = Math.max(peakRss, process.memoryUsage().rss)

    let told = 0
    for (const c of [all, few]) {
      for (const [s, events] of c.streams) told += checkExplained(s, events)
    }
    expect(told, 'snaps after a conflation or a catch-up reached the clients').toBeGreaterThan(0)
    expect(few.streams.size).toBe(4)
    expect(all.streams.size).toBeGreaterThanOrEqual(200)
    // Memory: the ring and latest values are fixed; what grows is socket buffers, bounded by the ladder
    const growthMb = (peakRss - rss0) / 2 ** 20
    expect(growthMb).toBeLessThan(400)
    console.log(`overload: ${feed.messages} feed messages, no gap; ${bursts} bursts; ${d.laps} laps, ${d.conflations} conflations, `
      + `${d.conflatedTrades} trades skipped, ${d.lappedSymbols} lapped fallbacks; ${told} snaps told; RSS +${growthMb.toFixed(0)} MB`)
  })
})
