// Owns the NATS baseline's publisher: the simulator feed through tickcast's Feed, one PUB per event on md.<SYMBOL>,
// payload = tickcast's own JSON event bytes. Must never batch or conflate: NATS sees every event, as tickcast does.
import net from 'node:net'
import { FORMAT_JSON, writeEvent } from '../../src/codec/tick-codec.js'
import { JSON_EVENT_MAX_BYTES } from '../../src/codec/json-codec.js'
import type { TickRing } from '../../src/ring/ring-buffer.js'
import { argValue, startFeedRing } from './feed-ring.js'

const OUT_BYTES = 4 * 1024 * 1024
let out = Buffer.allocUnsafe(OUT_BYTES), off = 0
const payload = Buffer.allocUnsafe(JSON_EVENT_MAX_BYTES)
const subjects: Buffer[] = []
const sock = net.connect({ host: '127.0.0.1', port: Number(argValue('nats-port', '4222')) })
sock.setNoDelay(true)
let connected = false

function onSlot(r: TickRing, i: number): void {
  if (!connected) return
  const id = r.symbolId[i]
  let subj = subjects[id]
  if (subj === undefined) subj = subjects[id] = Buffer.from(`PUB md.${fr.symbols.name[id]} `, 'latin1')
  const n = writeEvent(FORMAT_JSON, r, i, fr.symbols, payload, 0)
  if (off + subj.length + 16 + n > out.length) flush()
  off += subj.copy(out, off)
  off += out.write(String(n), off, 'latin1')
  out[off++] = 13; out[off++] = 10
  off += payload.copy(out, off, 0, n)
  out[off++] = 13; out[off++] = 10
}

function flush(): void {
  if (off === 0) return
  sock.write(out.subarray(0, off)) // node keeps the buffer: hand it over and start a fresh one
  out = Buffer.allocUnsafe(OUT_BYTES); off = 0
}

sock.on('data', (d) => { if (d.includes('PING')) sock.write('PONG\r\n') })
sock.on('connect', () => {
  sock.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\n')
  connected = true
  process.stdout.write(JSON.stringify({ event: 'listening' }) + '\n')
})
sock.on('error', (e) => { process.stderr.write(`nats publisher: ${e.message}\n`); process.exit(1) })
const fr = startFeedRing(Number(argValue('feed-port', '7001')), onSlot, flush)
process.on('SIGTERM', () => { void fr.feed.stop(); sock.destroy(); setTimeout(() => process.exit(0), 100) })
