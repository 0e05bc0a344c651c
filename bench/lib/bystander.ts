// Owns the hostile bench's bystander, in a process of its own: subscribed to `*`, it checks that each symbol's `n`
// rises by exactly 1 and times its longest silence. Must never share a process with an attacker: a stall measured
// here is the server's (or the machine's), not the attacker's own event loop.
//
// Forked by bench/hostile.ts with the stream URL as argv[2]; IPC in: 'reset' | 'report'; out: BystanderReport.
import WebSocket from 'ws'

export interface BystanderReport { t: 'report'; maxStallMs: number; gaps: number; events: number; closed: number | null; loopMaxMs: number }

const url = process.argv[2]
const last = new Map<string, number>()
let gaps = 0, events = 0, maxStallMs = 0, at = performance.now(), closed: number | null = null
// this process's own loop delay: a stall it causes itself would show here, not be blamed on the server
let loopMaxMs = 0, tickAt = performance.now()
setInterval(() => { const now = performance.now(); loopMaxMs = Math.max(loopMaxMs, now - tickAt - 5); tickAt = now }, 5)

const ws = new WebSocket(url)
ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'] })))
ws.on('close', (code) => { closed = code })
ws.on('error', () => {})
ws.on('message', (d) => {
  const now = performance.now()
  maxStallMs = Math.max(maxStallMs, now - at); at = now
  const m = JSON.parse(String(d)) as unknown
  if (!Array.isArray(m)) return
  for (const e of m as Array<{ s: string; n: number; e: string }>) {
    events++
    const prev = last.get(e.s)
    if (prev !== undefined && e.e !== 'snap' && e.n !== prev + 1) gaps++
    last.set(e.s, e.n)
  }
})

process.on('message', (m: string) => {
  if (m === 'reset') { maxStallMs = 0; at = performance.now(); loopMaxMs = 0; return }
  if (m === 'report') {
    // the silence still running counts too (a bystander that hears nothing has one long stall)
    const report: BystanderReport = { t: 'report', maxStallMs: Math.max(maxStallMs, performance.now() - at), gaps, events, closed, loopMaxMs }
    process.send!(report)
  }
  if (m === 'stop') { ws.terminate(); process.exit(0) }
})
