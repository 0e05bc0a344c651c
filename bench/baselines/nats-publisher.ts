// Owns the NATS baseline's publisher: the simulator feed through tickcast's Feed, PUBs on md.<SYMBOL> whose payload
// is tickcast's own JSON event bytes. Must never conflate: NATS sees every event, as tickcast does. Unbatched (the
// default) it publishes one message per event; with --batch, one message per symbol per event-loop turn holding
// that turn's events as a JSON array: the same batching tickcast's fan-out does (one frame per symbol per turn).
import net from 'node:net'
import { FORMAT_JSON, writeEvent } from '../../src/codec/tick-codec.js'
import { JSON_EVENT_MAX_BYTES } from '../../src/codec/json-codec.js'
import type { TickRing } from '../../src/ring/ring-buffer.js'
import { argValue, startFeedRing } from './feed-ring.js'

const OUT_BYTES = 4 * 1024 * 1024
const BATCH = process.argv.includes('--batch')
let out = Buffer.allocUnsafe(OUT_BYTES), off = 0
const payload = Buffer.allocUnsafe(JSON_EVENT_MAX_BYTES)
const subjects: Buffer[] = []
/** --batch: per symbol id, this turn's events as `[ev,ev` (closed with `]` at publish), and the ids touched */
const pending: Buffer[] = [], pendingLen: number[] = [], touched: number[] = []
const sock = net.connect({ host: '127.0.0.1', port: Number(argValue('nats-port', '4222')) })
sock.setNoDelay(true)
let connected = false

function subject(id: number): Buffer {
  return subjects[id] ??= Buffer.from(`PUB md.${fr.symbols.name[id]} `, 'latin1')
}

function publish(subj: Buffer, body: Buffer, n: number): void {
  if (off + subj.length + 16 + n > out.length) flushOut()
  if (subj.length + 16 + n > out.length) { out = Buffer.allocUnsafe(subj.length + 16 + n); off = 0 }
  off += subj.copy(out, off)
  off += out.write(String(n), off, 'latin1')
  out[off++] = 13; out[off++] = 10
  off += body.copy(out, off, 0, n)
  out[off++] = 13; out[off++] = 10
}

function onSlot(r: TickRing, i: number): void {
  if (!connected) return
  const id = r.symbolId[i]
  if (!BATCH) { publish(subject(id), payload, writeEvent(FORMAT_JSON, r, i, fr.symbols, payload, 0)); return }
  let b = pending[id], len = pendingLen[id] ?? 0
  if (b === undefined) { b = pending[id] = Buffer.allocUnsafe(16 * 1024); len = 0 }
  if (len + JSON_EVENT_MAX_BYTES + 2 > b.length) { const g = Buffer.allocUnsafe(b.length * 2); b.copy(g, 0, 0, len); b = pending[id] = g }
  if (len === 0) touched.push(id)
  b[len] = len === 0 ? 91 : 44 // [ first, then ,
  len++
  pendingLen[id] = writeEvent(FORMAT_JSON, r, i, fr.symbols, b, len)
}

function onTurnEnd(): void {
  for (const id of touched) {
    const b = pending[id]
    b[pendingLen[id]++] = 93 // ]
    publish(subject(id), b, pendingLen[id])
    pendingLen[id] = 0
  }
  touched.length = 0
  flushOut()
}

function flushOut(): void {
  if (off === 0) return
  sock.write(out.subarray(0, off)) // node keeps the buffer: hand it over and start a fresh one
  out = Buffer.allocUnsafe(OUT_BYTES); off = 0
}

sock.on('data', (d) => { if (d.includes('PING')) sock.write('PONG\r\n') })
sock.on('connect', () => {
  sock.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\n')
  connected = true
  process.stdout.write(JSON.stringify({ event: 'listening', batch: BATCH }) + '\n')
})
sock.on('error', (e) => { process.stderr.write(`nats publisher: ${e.message}\n`); process.exit(1) })
const fr = startFeedRing(Number(argValue('feed-port', '7001')), onSlot, onTurnEnd)
process.on('SIGTERM', () => { void fr.feed.stop(); sock.destroy(); setTimeout(() => process.exit(0), 100) })
