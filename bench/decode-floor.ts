// Owns a measuring stick, not a path: the same native quotes framed, decoded and written to ring columns and latest
// values in one fused loop with every column hoisted, to show what the layered ingest path costs over the floor.
// Must never be used by the server: it skips validation, session sequencing, stale markers and split frames.
// Usage: node dist/bench/decode-floor.js [quotes] [passes]  (compare with decode-ingest-path.js under callgrind)
import { buildStream, FRAMED_QUOTE_BYTES } from './decode-stream.js'

const QUOTES = Number(process.argv[2] ?? 200000), PASSES = Number(process.argv[3] ?? 1), SYMBOLS = 500
const { quotes } = buildStream(QUOTES, SYMBOLS)
const N = 1 << 20, MASK = N - 1, STRIDE = 24
const f64 = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(n * 8)).fill(0) // faulted in, as a server's
const kind = new Uint8Array(new SharedArrayBuffer(N)).fill(0), code = new Uint8Array(new SharedArrayBuffer(N)).fill(0)
const symbolId = new Uint32Array(new SharedArrayBuffer(N * 4)).fill(0)
const symbolSeq = f64(N), exchTime = f64(N), recvTime = f64(N), bidPx = f64(N), bidSz = f64(N), askPx = f64(N), askSz = f64(N)
const next = new Float64Array(1024), lastRing = new Float64Array(1024), idByLocate = new Int32Array(1024).map((_, k) => k)
const lf = f64(1024 * STRIDE), lw = new Int32Array(lf.buffer)
let cursor = -1

function run(buf: Buffer): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length), n = buf.length
  let o = 0, c = cursor
  while (o + 2 <= n) {
    const len = (buf[o] << 8) | buf[o + 1]
    if (o + 2 + len > n) break
    const p = o + 3
    if (buf[o + 2] === 0x53 && len === 49 && buf[p] === 0x51) {
      const locate = dv.getUint32(p + 4, true), lo = dv.getUint32(p + 8, true), hi = dv.getUint32(p + 12, true)
      const us = hi * 4294967 + Math.floor((hi * 296 + lo) / 1000)
      const bp = dv.getInt32(p + 20, true) * 4294967296 + dv.getUint32(p + 16, true)
      const bs = dv.getInt32(p + 28, true) * 4294967296 + dv.getUint32(p + 24, true)
      const ap = dv.getInt32(p + 36, true) * 4294967296 + dv.getUint32(p + 32, true)
      const as = dv.getInt32(p + 44, true) * 4294967296 + dv.getUint32(p + 40, true)
      const id = idByLocate[locate], seq = ++c, i = seq & MASK, q = ++next[id], flags = buf[p + 1]
      kind[i] = 1; code[i] = flags; symbolId[i] = id; symbolSeq[i] = q; exchTime[i] = us; recvTime[i] = 5
      bidPx[i] = bp; bidSz[i] = bs; askPx[i] = ap; askSz[i] = as
      lastRing[id] = seq
      const b = id * STRIDE, vi = 2 * b, v = lw[vi] + 1
      lw[vi] = v; lf[b + 1] = q; lf[b + 2] = q; lf[b + 3] = us; lw[vi + 1] = flags
      lf[b + 4] = bp; lf[b + 5] = bs; lf[b + 6] = ap; lf[b + 7] = as; lw[vi] = v + 1
    }
    o += 2 + len
  }
  cursor = c
}

// Chunks of whole frames (the floor has no carry buffer), about the 256 KiB of a socket read, copied like one.
const CHUNK = 256 * 1024 - ((256 * 1024) % FRAMED_QUOTE_BYTES), chunk = Buffer.allocUnsafe(CHUNK)
const cpu0 = process.cpuUsage()
for (let k = 0; k < PASSES; k++) {
  for (let o = 0; o < quotes.length; o += CHUNK) {
    const n = Math.min(CHUNK, quotes.length - o)
    quotes.copy(chunk, 0, o, o + n); run(chunk.subarray(0, n))
  }
  process.cpuUsage() // a mark per pass (callgrind --dump-before=uv_getrusage: one dump per pass)
}
const cpu = process.cpuUsage(cpu0), sec = (cpu.user + cpu.system) / 1e6
if (cursor + 1 !== QUOTES * PASSES) throw new Error(`${cursor + 1} events for ${QUOTES * PASSES} quotes`)
console.log(`${QUOTES * PASSES} quotes in ${sec.toFixed(3)} CPU-s: ${(QUOTES * PASSES / sec / 1e6).toFixed(2)} M quotes per CPU-second (process, in memory, fused floor)`)
