// End to end with real exchange bytes: the IEX TOPS sample replayed over SoupBinTCP → tickcast (TOPS decoder,
// normalizer, ring, dispatcher) → a real WebSocket client subscribed to every symbol. What the client ends with
// must equal a direct decode of the same capture.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { loadConfig } from '../../src/config.js'
import { TopsDecoder } from '../../src/feed/decoders/tops.js'
import { FeedStats } from '../../src/feed/feed-stats.js'
import { DECODE_UNKNOWN_SYMBOL } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { NO_SYMBOL, SYMBOL_PATTERN } from '../../src/model/symbols.js'
import type { TickSink } from '../../src/normalize/tick-sink.js'
import { startTickcast } from '../../src/server.js'
import { waitFor } from '../../test-support/wait-for.js'
import { loadCaptureFile } from './load-capture.js'
import { startReplay } from './replayer.js'

const TOPS = new URL('../samples/iex-tops16/TOPS16.pcapng.gz', import.meta.url).pathname
type Quote = { bp: number; bs: number; ap: number; as: number }
type Event = { e: string; s: string; n: number; bp?: number | null; bs?: number | null; ap?: number | null; as?: number | null }

/**
 * A TickSink that keeps what a direct decode says: last quote per symbol (mantissas) and the trade count.
 * Like tickcast's SymbolTable it refuses names outside SYMBOL_PATTERN; the sample has none (its suffixed
 * symbols such as MDGN+ and GRP= are in the alphabet), which the test checks.
 */
class Direct implements TickSink {
  readonly names: string[] = []
  readonly last = new Map<string, Quote>()
  trades = 0
  defineSymbol(): number { return 0 }
  locateOf(name: string): number {
    if (!SYMBOL_PATTERN.test(name)) return NO_SYMBOL
    this.names.push(name); return this.names.length - 1
  }
  quote(locate: number, _t: number, bp: number, bs: number, ap: number, as: number): number { this.last.set(this.names[locate], { bp, bs, ap, as }); return 0 }
  trade(): number { this.trades++; return 0 }
  status(): number { return 0 }
}

const running: Array<() => Promise<unknown>> = []
afterEach(async () => { for (const stop of running.splice(0).reverse()) await stop() })

describe('IEX TOPS sample end to end', () => {
  it('a client subscribed to * ends with the last quote per symbol and all 6,390 trades of the capture', async () => {
    const cap = loadCaptureFile(TOPS)
    const direct = new Direct(), directStats = new FeedStats('direct'), dec = new TopsDecoder(direct, directStats)
    for (let i = 0; i < cap.count; i++) dec.decode(cap.buf, cap.off[i], cap.len[i])
    // the sample's documented Trade Report count, every one on a symbol tickcast accepts (MDGN+ has 291)
    expect(direct.trades).toBe(6390)
    expect(directStats.decodeErrors[DECODE_UNKNOWN_SYMBOL]).toBe(0)
    expect(direct.last.size).toBeGreaterThan(7000)

    let release!: () => void
    const hold = new Promise<void>((r) => { release = r })
    const replay = await startReplay({ capture: cap, pace: 'fast', sessionId: 'IEX', hold })
    running.push(() => replay.stop())
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--feed', `iex=tops:tcp://127.0.0.1:${replay.port}`,
      '--ws-max-backpressure-bytes', String(256 * 1024 * 1024), '--ws-slow-hard-limit-bytes', String(512 * 1024 * 1024)], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(() => t.stop())

    const ws = new WebSocket(`${t.url}?format=json`), events: Event[] = [], control: Array<Record<string, unknown>> = []
    running.push(async () => { ws.terminate() })
    ws.on('message', (data: Buffer) => { const m = JSON.parse(data.toString()) as unknown; if (Array.isArray(m)) events.push(...(m as Event[])); else control.push(m as Record<string, unknown>) })
    await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j) })
    ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'], id: 's' }))
    await waitFor(() => control.some((c) => c.type === 'subscribed'), 5000, 'subscribe ack')
    await waitFor(() => t.feeds[0].stats.loggedIn === 1, 5000, 'feed login')
    release() // only now does the capture flow: every trade happens after the subscription

    await waitFor(() => t.feeds[0].stats.endOfSession === 1, 15_000, 'End of Session at tickcast')
    expect(t.feeds[0].stats.messages).toBe(57_674)
    const trades = (): number => events.filter((e) => e.e === 't').length
    await waitFor(() => trades() >= direct.trades, 10_000, 'every trade over the WebSocket')
    ws.send(JSON.stringify({ op: 'ping', id: 'end' })) // the pong follows everything already published
    await waitFor(() => control.some((c) => c.type === 'pong'), 5000, 'pong')

    expect(trades()).toBe(direct.trades)
    expect(t.feeds[0].stats.decodeErrors[DECODE_UNKNOWN_SYMBOL]).toBe(directStats.decodeErrors[DECODE_UNKNOWN_SYMBOL])
    const final = new Map<string, Quote>()
    for (const e of events) {
      if ((e.e === 'q' || e.e === 'snap') && e.bp != null) final.set(e.s, { bp: Math.round(e.bp * 1e4), bs: e.bs ?? 0, ap: Math.round((e.ap ?? 0) * 1e4), as: e.as ?? 0 })
    }
    expect(final).toEqual(direct.last)
    // per-symbol sequence numbers count up by one: nothing was conflated or lost on the way
    const lastN = new Map<string, number>()
    for (const e of events) { const p = lastN.get(e.s); if (p !== undefined && e.n !== p + 1) throw new Error(`${e.s}: ${p} → ${e.n}`); lastN.set(e.s, e.n) }
  }, 20_000)
})
