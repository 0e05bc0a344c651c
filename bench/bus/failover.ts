// Owns the failover measurement: TickcastClients given both edges' URLs, one edge SIGKILLed, the time until each
// client has an update again from the other edge, and what the resume replayed. Must never judge by wall clock alone:
// every client's per-symbol n is checked for gaps and duplicates across the move.
import WebSocket from 'ws'
import { TickcastClient } from '../../src/client/tickcast-client.js'
import type { Node } from './nodes.js'

export interface FailoverFigures {
  clients: number
  /** clients that had an update from the surviving edge within the deadline */
  resumed: number
  /** kill → first update on the other edge, per client */
  p50Ms: number; maxMs: number
  /** symbols resumed from the ring (recovered: true) / sent a snapshot instead */
  recovered: number; unrecovered: number
  /** events delivered on the new edge with a feed timestamp before the client's first update there: the replay (plus the few ms in flight) */
  eventsReplayed: number
  /** n breaks (gap or repeat) seen by any client across the move */
  breaks: number
  reconnectMinMs: number
}

const RECONNECT = { minMs: 20, maxMs: 100 }

export async function measureFailover(dying: Node, survivor: Node, symbols: string[], clients: number, perClient: number, deadlineMs: number): Promise<FailoverFigures> {
  const cs: TickcastClient[] = []
  const first: number[] = new Array(clients).fill(0), replayed: number[] = new Array(clients).fill(0)
  let breaks = 0, killedAt = 0
  for (let k = 0; k < clients; k++) {
    const c = new TickcastClient({ url: [dying.url, survivor.url], format: 'json', WebSocket, reconnect: RECONNECT, pingIntervalMs: 0 })
    const last = new Map<string, number>()
    c.on('snapshot', (s) => { last.set(s.symbol, s.n) })
    const onUpdate = (u: { symbol: string; n: number; time: number }): void => {
      const prev = last.get(u.symbol)
      if (prev !== undefined && u.n !== prev + 1) breaks++
      last.set(u.symbol, u.n)
      if (killedAt === 0 || !c.url.startsWith(survivor.url)) return
      const now = performance.timeOrigin + performance.now()
      if (first[k] === 0) first[k] = now
      const tMs = u.time > 1e14 ? u.time / 1000 : u.time // µs since the epoch on the wire
      if (tMs < first[k]) replayed[k]++
    }
    c.on('quote', onUpdate); c.on('trade', onUpdate); c.on('status', onUpdate)
    c.subscribe(Array.from({ length: perClient }, (_, j) => symbols[(k * perClient + j) % symbols.length]))
    c.connect()
    cs.push(c)
  }
  try {
    const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
      const end = Date.now() + ms
      while (!cond()) { if (Date.now() > end) return false; await new Promise((r) => setTimeout(r, 10)) }
      return true
    }
    if (!await until(() => cs.every((c) => c.state === 'open' && c.url.startsWith(dying.url) && c.stats.eventsIn > 0), deadlineMs)) {
      throw new Error('failover: not every client was receiving from the first edge')
    }
    await new Promise((r) => setTimeout(r, 500))
    killedAt = performance.timeOrigin + performance.now()
    dying.kill()
    await until(() => first.every((f) => f > 0), deadlineMs)
    const times = first.filter((f) => f > 0).map((f) => f - killedAt).sort((a, b) => a - b)
    return {
      clients, resumed: times.length,
      p50Ms: Math.round(times[Math.floor(times.length / 2)] ?? 0), maxMs: Math.round(times[times.length - 1] ?? 0),
      recovered: cs.reduce((s, c) => s + c.stats.recovered, 0), unrecovered: cs.reduce((s, c) => s + c.stats.unrecovered, 0),
      eventsReplayed: replayed.reduce((s, x) => s + x, 0), breaks, reconnectMinMs: RECONNECT.minMs,
    }
  } finally { for (const c of cs) c.close() }
}
