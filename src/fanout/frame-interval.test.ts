// --ws-frame-interval-ms end to end: a real tickcast (with and without a fan-out worker) reading a real SoupBinTCP feed
// over TCP, and WebSocket clients timing the frames they get: one merged frame per interval at most, nothing lost.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { writeQuote, writeSymbolDirectory } from '../../feeds/native-encoder.js'
import { SoupServer } from '../../feeds/soup-server.js'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import type * as ServerModule from '../server.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'

type Event = Record<string, unknown> & { e: string; s: string; n: number }

// worker threads load JavaScript only: the server runs from the compiled dist/ (the global setup builds it), as in
// fanout-workers.test.ts; the path is a variable so typecheck, which runs before any build, does not look for it
const DIST_SERVER = '../../dist/src/server.js'
const { startTickcast } = await import(DIST_SERVER) as typeof ServerModule
const running: Array<{ stop(): Promise<unknown> }> = []
afterEach(async () => { for (const r of running.splice(0).reverse()) await r.stop() })

const TS = 1_732_619_000_000_000
const SYMBOLS = ['AAPL', 'MSFT', 'TSLA']
const INTERVAL_MS = 200
const b = Buffer.alloc(64)

/** A client noting each data frame's arrival time and events. */
class Client {
  readonly frames: Array<{ at: number; events: Event[] }> = []
  readonly ws: WebSocket
  constructor(url: string) {
    this.ws = new WebSocket(`${url}?format=json`)
    this.ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString())
      if (Array.isArray(m)) this.frames.push({ at: performance.now(), events: m as Event[] })
    })
    running.push({ stop: async () => { this.ws.terminate() } })
  }
  opened(): Promise<void> { return new Promise((r, j) => { this.ws.once('open', () => r()); this.ws.once('error', j) }) }
  of(symbol: string): Event[] { return this.frames.flatMap((f) => f.events.filter((e) => e.s === symbol)) }
}

describe('--ws-frame-interval-ms', () => {
  it.each([0, 1])('with %i fan-out workers: at most one merged frame per interval per connection, every event once and in order, the first after a pause at once', async (workers) => {
    const soup = new SoupServer({ sessionId: 'INTERVAL', recoveryBytes: 16 * 1024 * 1024, blockBytes: 1024 })
    const port = await soup.listen()
    running.push({ stop: () => soup.close() })
    SYMBOLS.forEach((name, k) => soup.append(b, 0, writeSymbolDirectory(b, 0, k + 1, TS, 0, name, -4, 0, 1, 1)))
    const last = SYMBOLS.map(() => 0)
    const quote = (k: number): void => { last[k]++; soup.append(b, 0, writeQuote(b, 0, k + 1, TS + last[k], 0, 0, 1000 + last[k], 100, 1001 + last[k], 100)) }
    SYMBOLS.forEach((_, k) => quote(k))

    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--feed', `a=native:tcp://127.0.0.1:${port}`,
      '--workers', String(workers), '--ws-frame-interval-ms', String(INTERVAL_MS)], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(t)
    await waitFor(() => t.symbols.size === 3, 5000, 'three symbols')
    const clients = [new Client(t.url), new Client(t.url)]
    for (const c of clients) {
      await c.opened()
      c.ws.send(JSON.stringify({ op: 'subscribe', symbols: SYMBOLS }))
    }
    await waitFor(() => clients.every((c) => SYMBOLS.every((s) => c.of(s).some((e) => e.e === 'snap'))), 5000, 'three snapshots each')

    // a steady stream: each symbol every 4 ms for 1.2 s, far more often than the interval
    const start = performance.now()
    while (performance.now() - start < 1200) { SYMBOLS.forEach((_, k) => quote(k)); await sleep(4) }
    await waitFor(() => clients.every((c) => SYMBOLS.every((s, k) => c.of(s).at(-1)!.n === last[k])), 5000, 'every quote at every client')
    for (const c of clients) {
      for (const s of SYMBOLS) {
        const events = c.of(s)
        for (let k = 1; k < events.length; k++) expect(events[k].n, `${s} after ${events[k - 1].n}`).toBe(events[k - 1].n + 1)
      }
      const data = c.frames.filter((f) => f.at >= start)
      const gaps = data.slice(1).map((f, k) => f.at - data[k].at), shown = `gaps ${gaps.map((g) => g.toFixed(0))}`
      // the first frame went at once (quiet before), the next at the phase the connection took (the interval's second
      // half), then one per interval (less what the loopback and the client's loop add to one arrival but not the next)
      expect(gaps[0], shown).toBeGreaterThan(INTERVAL_MS * 0.4)
      expect(Math.min(...gaps.slice(1)), shown).toBeGreaterThan(INTERVAL_MS * 0.7)
      expect(data.length).toBeLessThanOrEqual(Math.ceil(1200 / INTERVAL_MS) + 2)
      expect(data.reduce((n, f) => n + f.events.length, 0)).toBeGreaterThan(600) // many events per frame
    }

    // quiet for over an interval: the next quote goes out at once, not at the connection's phase
    await sleep(INTERVAL_MS * 1.5)
    const before = clients.map((c) => c.frames.length), sent = performance.now()
    quote(0)
    await waitFor(() => clients.every((c, k) => c.frames.length > before[k]), 5000, 'the quote after the pause')
    for (const c of clients) expect(c.frames.at(-1)!.at - sent).toBeLessThan(INTERVAL_MS / 2)
  })
})
