// Owns one load-generator process (child_process.fork): many lean WebSocket clients, counters, a latency histogram.
// Must never decide the workload: the parent sends the client list and reads reports over IPC.
import * as hdr from 'hdr-histogram-js'
import { LeanWsClient } from './lean-ws.js'
import { JsonUpdatesReceiver, NatsReceiver, RecvStats } from './receivers.js'

/** tickcast-auth: tickcast with authentication on, every client with its own API key (issue 10's figure) */
export type TargetKind = 'tickcast' | 'tickcast-auth' | 'naive' | 'nats'
export interface ClientSpec { symbols: string[]; paused: boolean; token?: string }
export type WorkerCommand =
  | { cmd: 'connect'; kind: TargetKind; host: string; port: number; path: string; clients: ClientSpec[]; options?: Record<string, unknown> }
  | { cmd: 'reset' } | { cmd: 'report' } | { cmd: 'close' }
export interface WorkerReport {
  ev: 'report'; elapsedMs: number; updates: number; frames: number; bytes: number; controls: number
  controlTypes: Record<string, number>; hist: string; open: number; closeCodes: Record<string, number>
}

const stats = new RecvStats()
const clients: LeanWsClient[] = []
let since = performance.now()

function send(msg: object): void { process.send?.(msg) }

async function connectAll(c: Extract<WorkerCommand, { cmd: 'connect' }>): Promise<void> {
  let failed = 0
  const CONCURRENCY = 250
  for (let i = 0; i < c.clients.length; i += CONCURRENCY) {
    await Promise.all(c.clients.slice(i, i + CONCURRENCY).map(async (spec) => {
      const holder: { client: LeanWsClient | null } = { client: null }
      const handler = c.kind === 'nats' ? new NatsReceiver(stats, (s) => holder.client?.sendText(s)) : new JsonUpdatesReceiver(stats)
      const client = holder.client = new LeanWsClient(handler)
      try {
        await client.connect(c.host, c.port, c.path, 30_000, spec.token)
      } catch { failed++; return }
      clients.push(client)
      if (c.kind === 'nats') {
        let subs = 'CONNECT {"verbose":false,"pedantic":false,"protocol":1,"no_responders":false}\r\n'
        for (let k = 0; k < spec.symbols.length; k++) subs += `SUB md.${spec.symbols[k]} ${k + 1}\r\n`
        client.sendText(subs + 'PING\r\n')
      } else {
        client.sendText(JSON.stringify({ op: 'subscribe', symbols: spec.symbols, snapshot: false, ...(c.options ?? {}) }))
      }
      if (spec.paused) client.pause()
    }))
  }
  send({ ev: 'connected', n: clients.length, failed })
}

function report(): void {
  const closeCodes: Record<string, number> = {}
  let open = 0
  for (const c of clients) { if (c.closeCode === 0) open++; else closeCodes[c.closeCode] = (closeCodes[c.closeCode] ?? 0) + 1 }
  const r: WorkerReport = {
    ev: 'report', elapsedMs: performance.now() - since, updates: stats.updates, frames: stats.frames, bytes: stats.bytes,
    controls: stats.controls, controlTypes: { ...stats.controlTypes }, hist: hdr.encodeIntoCompressedBase64(stats.latencyUs), open, closeCodes,
  }
  send(r)
}

process.on('message', (m: WorkerCommand) => {
  switch (m.cmd) {
    case 'connect': void connectAll(m); break
    case 'reset': stats.reset(); since = performance.now(); send({ ev: 'reset' }); break
    case 'report': report(); break
    case 'close':
      for (const c of clients) c.destroy()
      setTimeout(() => process.exit(0), 50)
      break
  }
})
process.on('disconnect', () => process.exit(0))
send({ ev: 'ready' })
