// Owns one saturation load process (child_process.fork): lean WebSocket clients that subscribe, check every
// update's sequence and age, and report per step. Must never decide the workload: the parent sends it over IPC.
import * as hdr from 'hdr-histogram-js'
import { LeanWsClient, readClock } from '../lib/lean-ws.js'
import type { FrameHandler } from '../lib/lean-ws.js'
import { JsonFrames, NatsFrames } from './frame-handlers.js'
import { ConnSeq, SymbolIndex, UpdateStats } from './update-stats.js'

/** how the clients speak: tickcast's protocol, the naive server's (the same subscribe), NATS, or nothing (bare uWS) */
export type WireKind = 'tickcast' | 'naive' | 'nats' | 'bare'
export type WorkerCommand =
  | { cmd: 'connect'; wire: WireKind; host: string; port: number; path: string; names: string[]; clients: string[][]; timeoutMs: number }
  | { cmd: 'reset' } | { cmd: 'report' } | { cmd: 'updates' } | { cmd: 'close' }
export interface WorkerReport {
  ev: 'report'; elapsedMs: number; updates: number; frames: number; messages: number; bytes: number
  gaps: number; missing: number; dups: number; stale: number; snaps: number; controls: Record<string, number>
  /** updates the connections' symbols produced since the reset (as the fastest connection saw them) */
  expected: number
  /** connections that received nothing since the reset although their symbols produced updates */
  silent: number
  hist: string; open: number; closeCodes: Record<string, number>; cpuSec: number
  /** TCP reads since the reset (each pays one clock read and one callback), and the user part of cpuSec */
  reads: number; cpuUserSec: number
  /** event-loop turns that read data, and their p99 and longest length (ms): how far a turn's one clock can be off */
  turnCount: number; turnP99Ms: number; turnMaxMs: number
  /** the same updates aged from their turn's first read instead of their own read */
  histAtTurnStart: string
}
/** n: connections this command opened (a process may be asked to connect more than once) */
export interface ConnectReport { ev: 'connected'; n: number; failed: number; firstError: string }

let stats: UpdateStats | null = null
// ages from each read (never understated) and from its turn's first read (without the queueing behind this process's
// other clients): see readClock (lean-ws.ts)
readClock.trackTurns = true
readClock.onTurn = (us) => { stats?.turns.record(us) }
const clients: Array<{ ws: LeanWsClient; seq: ConnSeq; updatesAtReset: number }> = []
let readsAtReset = 0
let since = performance.now()

function send(msg: object): void { process.send?.(msg) }
function cpuSec(): number { const c = process.cpuUsage(); return (c.user + c.system) / 1e6 }
function reads(): number { let n = 0; for (const c of clients) n += c.ws.reads; return n }

async function connectAll(c: Extract<WorkerCommand, { cmd: 'connect' }>): Promise<void> {
  const index = new SymbolIndex(c.names)
  const st = stats = new UpdateStats(index)
  let failed = 0, firstError = ''
  const had = clients.length
  const CONCURRENCY = 200
  // the whole connect phase is bounded, not each handshake: a server that accepts slowly fails within timeoutMs
  const until = performance.now() + c.timeoutMs
  for (let i = 0; i < c.clients.length; i += CONCURRENCY) {
    if (performance.now() > until) {
      failed += c.clients.length - i
      firstError ||= `connect phase over ${c.timeoutMs / 1000} s`
      break
    }
    await Promise.all(c.clients.slice(i, i + CONCURRENCY).map(async (symbols) => {
      const ids = Int32Array.from(symbols.map((s) => index.find(Buffer.from(s, 'latin1'), 0, s.length)))
      const seq = new ConnSeq(st, ids)
      const holder: { ws: LeanWsClient | null } = { ws: null }
      const handler: FrameHandler = c.wire === 'nats' ? new NatsFrames(seq, (s) => holder.ws?.sendText(s)) : new JsonFrames(seq)
      const ws = holder.ws = new LeanWsClient(handler)
      try {
        await ws.connect(c.host, c.port, c.path, Math.max(1000, until - performance.now()))
      } catch (e) { failed++; firstError ||= (e as Error).message; ws.destroy(); return }
      clients.push({ ws, seq, updatesAtReset: 0 })
      if (symbols.length === 0) return // idle and unsubscribed
      if (c.wire === 'nats') {
        let subs = 'CONNECT {"verbose":false,"pedantic":false,"protocol":1,"no_responders":false}\r\n'
        for (let k = 0; k < symbols.length; k++) subs += `SUB md.${symbols[k]} ${k + 1}\r\n`
        ws.sendText(subs + 'PING\r\n')
      } else {
        ws.sendText(JSON.stringify({ op: 'subscribe', symbols, snapshot: false }))
      }
    }))
  }
  const r: ConnectReport = { ev: 'connected', n: clients.length - had, failed, firstError }
  send(r)
}

/** per connection: the sum of its symbols' last n, i.e. how far its streams have advanced */
function advance(seq: ConnSeq): number {
  let s = 0
  for (const id of seq.ids) if (id >= 0) s += seq.last[id]
  return s
}

function turnFigures(st: UpdateStats): Pick<WorkerReport, 'turnCount' | 'turnP99Ms' | 'turnMaxMs'> {
  const h = st.turns.histogram()
  return { turnCount: h.totalCount, turnP99Ms: h.getValueAtPercentile(99) / 1000, turnMaxMs: h.maxValue / 1000 }
}

function report(): void {
  const st = stats!
  const closeCodes: Record<string, number> = {}
  let open = 0, expected = 0, silent = 0
  for (const c of clients) {
    if (c.ws.closeCode === 0) open++; else closeCodes[c.ws.closeCode] = (closeCodes[c.ws.closeCode] ?? 0) + 1
    let due = 0
    for (const id of c.seq.ids) if (id >= 0) due += st.producedSinceReset(id)
    expected += due
    if (due > 0 && advance(c.seq) === c.updatesAtReset) silent++
  }
  const r: WorkerReport = {
    ev: 'report', elapsedMs: performance.now() - since, updates: st.updates, frames: st.frames, messages: st.messages, bytes: st.bytes,
    gaps: st.gaps, missing: st.missing, dups: st.dups, stale: st.stale, snaps: st.snaps, controls: { ...st.controls }, expected, silent,
    hist: hdr.encodeIntoCompressedBase64(st.latency.histogram()), open, closeCodes, cpuSec: cpuSec(),
    reads: reads() - readsAtReset, cpuUserSec: process.cpuUsage().user / 1e6, ...turnFigures(st),
    histAtTurnStart: hdr.encodeIntoCompressedBase64(st.latencyAtTurnStart.histogram()),
  }
  send(r)
}

process.on('message', (m: WorkerCommand) => {
  switch (m.cmd) {
    case 'connect': void connectAll(m); break
    case 'reset':
      stats?.reset()
      for (const c of clients) c.updatesAtReset = advance(c.seq)
      readsAtReset = reads()
      since = performance.now(); send({ ev: 'reset', cpuSec: cpuSec(), cpuUserSec: process.cpuUsage().user / 1e6 }); break
    case 'updates': send({ ev: 'updates', updates: stats?.updates ?? 0 }); break // cheap: no histogram
    case 'report': if (stats) report(); else send({ ev: 'error', message: 'report before connect' }); break
    case 'close':
      for (const c of clients) c.ws.destroy()
      setTimeout(() => process.exit(0), 50)
      break
  }
})
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0)) // an orderly exit: --cpu-prof writes its profile
send({ ev: 'ready' })
