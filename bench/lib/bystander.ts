// Owns the hostile bench's bystander, in a process of its own: subscribed to `*`, it checks that each symbol's `n`
// rises by exactly 1 and times its longest silence. Must never share a process with an attacker: a stall measured
// here is the server's (or the machine's), not the attacker's own event loop.
//
// Forked by bench/hostile.ts with the stream URL as argv[2]; IPC in: 'reset' | 'report'; out: BystanderReport.
//
// Where a silence came from, told apart by what the frame that ended it carries (events' `t`: the simulator's wall
// clock when it made them, µs): `tGapMs` ≈ the silence → nothing was produced meanwhile (the feed, not the output,
// stopped); `ageMs` ≈ the silence → it was produced on time and delivered late (server, kernel or this process);
// `loopGapMs` ≈ the silence → this process itself did not run (its own loop, or the machine's scheduler).
import WebSocket from 'ws'

/** The longest silence and what ended it. */
export interface StallCause {
  tGapMs: number; ageMs: number; loopGapMs: number
  /** the silence was still running when the report was asked for */
  running: boolean
  /** what ended it: a data frame, a frame of snapshots only, or a control reply */
  what: 'data' | 'snap' | 'control' | ''
}

export interface BystanderReport {
  t: 'report'; maxStallMs: number; gaps: number; events: number; closed: number | null; loopMaxMs: number
  cause: StallCause
  /** median and largest age of frames on arrival (wall clock − newest `t`) since the reset: the usual delivery delay,
   * and the longest any data waited between the feed and this process, whatever the feed did meanwhile */
  medianAgeMs: number
  maxAgeMs: number
}

const url = process.argv[2]
const last = new Map<string, number>()
let gaps = 0, events = 0, maxStallMs = 0, at = performance.now(), closed: number | null = null
let cause: StallCause = { tGapMs: 0, ageMs: 0, loopGapMs: 0, running: false, what: '' }
let lastT = 0
const ages: number[] = []
// this process's own loop delay: a stall it causes itself would show here, not be blamed on the server
let loopMaxMs = 0, tickAt = performance.now(), loopSinceMsgMs = 0
setInterval(() => {
  const now = performance.now(), late = now - tickAt - 5
  loopMaxMs = Math.max(loopMaxMs, late); loopSinceMsgMs = Math.max(loopSinceMsgMs, late); tickAt = now
}, 5)

const ws = new WebSocket(url)
ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'] })))
ws.on('close', (code) => { closed = code })
ws.on('error', () => {})
ws.on('message', (d) => {
  const now = performance.now(), wallUs = Date.now() * 1000
  const loopGap = Math.max(loopSinceMsgMs, now - tickAt - 5)
  loopSinceMsgMs = 0
  const stall = now - at
  at = now
  const m = JSON.parse(String(d)) as unknown
  let t = 0
  if (Array.isArray(m)) {
    for (const e of m as Array<{ s: string; n: number; e: string; t: number }>) {
      events++
      const prev = last.get(e.s)
      if (prev !== undefined && e.e !== 'snap' && e.n !== prev + 1) gaps++
      last.set(e.s, e.n)
      if (e.e !== 'snap' && e.t > t) t = e.t
    }
  }
  const age = t > 0 ? (wallUs - t) / 1000 : -1 // -1: a control reply or snapshots only (NaN would not survive IPC)
  if (t > 0 && ages.length < 100_000) ages.push(age)
  if (stall > maxStallMs) { maxStallMs = stall; cause = { tGapMs: t > 0 && lastT > 0 ? (t - lastT) / 1000 : -1, ageMs: age, loopGapMs: loopGap, running: false, what: t > 0 ? 'data' : Array.isArray(m) ? 'snap' : 'control' } }
  if (t > lastT) lastT = t
  if (reportTimer !== null && t > 0) { clearTimeout(reportTimer); reportTimer = null; sendReport() }
})

// A report asked for during a silence waits (≤ REPORT_WAIT_MS) for the frame that ends it: its age tells a late
// delivery from a pause of the feed (the simulator's directory repeat), which a silence cut short at the report cannot.
const REPORT_WAIT_MS = 2000
let reportTimer: NodeJS.Timeout | null = null

function sendReport(): void {
  // a silence still running after the wait counts whole (a bystander that hears nothing has one long stall)
  const still = performance.now() - at
  if (still > maxStallMs) cause = { tGapMs: -1, ageMs: -1, loopGapMs: loopSinceMsgMs, running: true, what: '' }
  const report: BystanderReport = { t: 'report', maxStallMs: Math.max(maxStallMs, still), gaps, events, closed, loopMaxMs, cause, medianAgeMs: median(ages), maxAgeMs: ages.reduce((a, b) => Math.max(a, b), 0) }
  process.send!(report)
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0
  const s = xs.slice().sort((a, b) => a - b)
  return s[s.length >> 1]
}

process.on('message', (m: string) => {
  if (m === 'reset') { maxStallMs = 0; at = performance.now(); loopMaxMs = 0; cause = { tGapMs: 0, ageMs: 0, loopGapMs: 0, running: false, what: '' }; ages.length = 0; return }
  if (m === 'report') {
    if (performance.now() - at < 50 || ws.readyState !== WebSocket.OPEN) { sendReport(); return }
    reportTimer = setTimeout(() => { reportTimer = null; sendReport() }, REPORT_WAIT_MS)
  }
  if (m === 'stop') { ws.terminate(); process.exit(0) }
})
