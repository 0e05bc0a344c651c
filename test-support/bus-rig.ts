// Owns starting real ingest and edge nodes around a real NATS cluster for the bus tests, and the raw clients that record
// what each node sends. Must never fake a node or the bus: every helper runs the real pipeline and registers its cleanup.
import WebSocket from 'ws'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/log.js'
import { startTickcast } from '../src/server.js'
import { STALE_FEED_DOWN } from '../src/model/staleness.js'
import type { Tickcast } from '../src/server.js'
import { tickcast } from './harness.js'
import type { Stoppable } from './harness.js'

/** An ingest node reading the simulator and publishing to the bus. */
export function ingestNode(list: Stoppable[], simPort: number, urls: string, stream: string, epoch: string): Promise<Tickcast> {
  return tickcast(list, simPort, {}, ['--bus', urls, '--bus-stream', stream, '--stream-epoch', epoch])
}

/** An edge node reading the bus (no feed). */
export async function edgeNode(list: Stoppable[], urls: string, stream: string, epoch: string, name = ''): Promise<Tickcast> {
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--source', urls, '--bus-stream', stream, '--stream-epoch', epoch,
    ...(name !== '' ? ['--node-name', name] : [])], {})
  if (cli.kind !== 'run') throw new Error('bad config')
  const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
  list.push(t)
  return t
}

/**
 * True when an ingest node has read its ended feed to the end: every symbol is marked feed_down, and that marker comes
 * after the feed's last bytes. Until then bytes still in the socket and the ring move its n on, so a `caughtUp` seen
 * right after the feed stops can be passed again a moment later.
 */
export function feedEnded(t: Tickcast): boolean {
  return t.symbols.size > 0 && t.symbols.name.every((_, id) => t.lvc.upstreamStale[id] === STALE_FEED_DOWN)
}

/** True when every symbol `from` knows has the same last n on `to` (`to` has caught up with it). */
export function caughtUp(from: Tickcast, to: Tickcast): boolean {
  return from.symbols.name.every((s) => {
    const id = to.symbols.idOf(s)
    return id >= 0 && to.lvc.seq[id] === from.lvc.seq[from.symbols.idOf(s)]
  })
}

export interface Recording {
  /** per symbol, every data event as `JSON` without the symbol, in arrival order */
  bySymbol: Map<string, string[]>
  /** stale / fresh markers as `SYM:stale|fresh` */
  marks: string[]
  /** stale markers with their reason and n, as `SYM:reason:n` */
  staleReasons: string[]
  epoch: Promise<string>
  close(): void
}

/** A raw WebSocket client subscribed to `*` without snapshots: records every event a node sends. */
export async function record(list: Stoppable[], url: string): Promise<Recording> {
  const ws = new WebSocket(`${url}?format=json`), bySymbol = new Map<string, string[]>(), marks: string[] = [], staleReasons: string[] = []
  list.push({ stop: async () => { ws.terminate() } })
  let gotEpoch: (e: string) => void = () => {}
  const epoch = new Promise<string>((r) => { gotEpoch = r })
  ws.on('message', (d: Buffer) => {
    const m = JSON.parse(d.toString()) as Array<Record<string, unknown>> | Record<string, unknown>
    if (!Array.isArray(m)) { if (m.type === 'subscribed') gotEpoch(String(m.epoch)); return }
    for (const e of m) {
      if (e.e === 'stale') staleReasons.push(`${String(e.s)}:${String(e.reason)}:${String(e.n)}`)
      if (e.e === 'stale' || e.e === 'fresh') { marks.push(`${String(e.s)}:${String(e.e)}`); continue }
      const { s, ...rest } = e
      const events = bySymbol.get(String(s)) ?? []
      events.push(JSON.stringify(rest)); bySymbol.set(String(s), events)
    }
  })
  ws.on('error', () => {}) // a node killed under it: the recording simply ends
  await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j) })
  ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'], snapshot: false }))
  return { bySymbol, marks, staleReasons, epoch, close: () => ws.terminate() }
}

/** The n of a recorded event. */
export function nOf(event: string): number { return (JSON.parse(event) as { n: number }).n }

/** Per symbol, the recorded n that break 1-step continuity (`SYM: prev → n`): gaps and duplicates. */
export function breaks(rec: Recording): string[] {
  const out: string[] = []
  for (const [sym, events] of rec.bySymbol) {
    for (let k = 1; k < events.length; k++) {
      const prev = nOf(events[k - 1]), n = nOf(events[k])
      if (n !== prev + 1) out.push(`${sym}: ${prev} → ${n}`)
    }
  }
  return out
}
