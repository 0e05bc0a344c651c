// Owns the "typical" WebSocket fan-out baseline: the `ws` package, a Set of sockets per symbol, JSON.stringify
// per message per client. Must never be optimised: it stands for the server most teams write first.
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { KIND_QUOTE, KIND_TRADE } from '../../src/ring/ring-buffer.js'
import type { TickRing } from '../../src/ring/ring-buffer.js'
import { argValue, startFeedRing } from './feed-ring.js'

const subscribers = new Map<string, Set<WebSocket>>()

function onSlot(r: TickRing, i: number): void {
  const name = fr.symbols.name[r.symbolId[i]]
  const subs = subscribers.get(name)
  if (!subs || subs.size === 0) return
  const px = 10 ** fr.symbols.priceExponent[r.symbolId[i]], k = r.kind[i]
  for (const ws of subs) {
    const msg = k === KIND_QUOTE
      ? { e: 'q', s: name, n: r.symbolSeq[i], bp: r.bidPrice[i] * px, bs: r.bidSize[i], ap: r.askPrice[i] * px, as: r.askSize[i], t: r.exchTimeUs[i] }
      : k === KIND_TRADE
        ? { e: 't', s: name, n: r.symbolSeq[i], p: r.tradePrice[i] * px, q: r.tradeSize[i], id: r.tradeId[i], t: r.exchTimeUs[i] }
        : { e: 'st', s: name, n: r.symbolSeq[i], st: String.fromCharCode(r.code[i]), t: r.exchTimeUs[i] }
    ws.send(JSON.stringify(msg))
  }
}

const fr = startFeedRing(Number(argValue('feed-port', '7001')), onSlot, () => {})
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(argValue('port', '0')), path: '/v1/stream' })
wss.on('connection', (ws) => {
  const mine = new Set<string>()
  ws.on('message', (data) => {
    let m: { op?: string; symbols?: string[] }
    try { m = JSON.parse(String(data)) as typeof m } catch { return }
    if (m.op !== 'subscribe' || !Array.isArray(m.symbols)) return
    for (const s of m.symbols) {
      let set = subscribers.get(s)
      if (!set) { set = new Set(); subscribers.set(s, set) }
      set.add(ws); mine.add(s)
    }
    ws.send(JSON.stringify({ type: 'subscribed', symbols: m.symbols }))
  })
  ws.on('close', () => { for (const s of mine) subscribers.get(s)?.delete(ws) })
  ws.on('error', () => {})
})
wss.on('listening', () => {
  const a = wss.address()
  process.stdout.write(JSON.stringify({ event: 'listening', port: typeof a === 'object' && a ? a.port : 0 }) + '\n')
})
process.on('SIGTERM', () => { void fr.feed.stop(); wss.close(); for (const c of wss.clients) c.terminate(); setTimeout(() => process.exit(0), 100) })
