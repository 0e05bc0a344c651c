// Owns a real WsServer + Dispatcher over a hand-written ring for fan-out tests: emit() writes events the dispatcher
// drains, connect() opens a raw `ws` client that sorts control replies from data. Must never fake the server side.
import WebSocket from 'ws'
import { LastValueCache } from '../src/cache/last-value-cache.js'
import { Dispatcher } from '../src/fanout/dispatcher.js'
import { WsServer } from '../src/fanout/ws-server.js'
import type { WsServerOptions } from '../src/fanout/ws-server.js'
import { WsStats } from '../src/fanout/ws-stats.js'
import { SymbolSequences } from '../src/normalize/symbol-sequences.js'
import { KIND_TRADE, TickRing } from '../src/ring/ring-buffer.js'
import { symbolTable } from './symbols.js'

export type Cleanup = Array<() => Promise<void> | void>
const silent = { info() {}, warn() {} }

/** Starts the rig on a free loopback port; everything it opens is pushed onto `cleanup`. */
export async function startWsRig(names: readonly string[], cleanup: Cleanup, opts: WsServerOptions = {}) {
  const symbols = symbolTable([...names], 64, -2), lvc = new LastValueCache(64), ring = new TickRing(1 << 16), stats = new WsStats()
  const server = new WsServer({ closeGraceMs: 20, ...opts }, symbols, lvc, stats, silent)
  const dispatcher = new Dispatcher(ring, lvc, symbols, new SymbolSequences(64), server, null)
  cleanup.push(() => server.close(), () => dispatcher.stop())
  const port = await server.listen('127.0.0.1', 0)
  const seqs = new Float64Array(64), trades = new Float64Array(64)
  let px = 10000
  function emit(id: number, kind: number): void {
    const i = ring.nextSlot()
    ring.kind[i] = kind; ring.symbolId[i] = id; ring.symbolSeq[i] = ++seqs[id]; ring.code[i] = 0x42
    ring.exchTimeUs[i] = Math.floor((performance.timeOrigin + performance.now()) * 1000); ring.recvTimeMs[i] = performance.now()
    px++
    ring.bidPrice[i] = px; ring.bidSize[i] = 100; ring.askPrice[i] = px + 1; ring.askSize[i] = 200
    ring.tradePrice[i] = px; ring.tradeSize[i] = 5; ring.tradeId[i] = seqs[id]
    if (kind === KIND_TRADE) trades[id]++
    ring.advance()
  }
  return { server, dispatcher, port, stats, lvc, seqs, trades, emit }
}

export interface RigClient { ws: WebSocket; control: Array<Record<string, unknown>>; events: Array<Record<string, unknown>>; closed: Promise<number> }

/** A raw client: data frames (arrays) into `events`, control replies into `control`. */
export function connectRig(port: number, cleanup: Cleanup): Promise<RigClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`)
  cleanup.push(() => ws.terminate())
  const c: RigClient = { ws, control: [], events: [], closed: new Promise((r) => ws.on('close', (code) => r(code))) }
  ws.on('message', (data: Buffer) => { const v = JSON.parse(data.toString()); if (Array.isArray(v)) c.events.push(...v); else c.control.push(v) })
  ws.on('error', () => {})
  return new Promise((resolve) => ws.once('open', () => resolve(c)))
}

/** Polls every 2 ms: these tests drive the dispatcher by hand and need tight waits. */
export async function until(cond: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 2)) }
}
