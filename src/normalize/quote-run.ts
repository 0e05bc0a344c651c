// Owns the fused fast path of the native feed's common case: a run of SoupBinTCP packets that each carry one native
// quote or trade, framed, checked and written to ring slots and latest values in one loop. Must never take anything else.
import { OFF_LOCATE, OFF_Q_ASK_PX, OFF_Q_ASK_SZ, OFF_Q_BID_PX, OFF_Q_BID_SZ, OFF_Q_FLAGS, OFF_TS, MAX_LOCATE, MSG_QUOTE, QUOTE_LEN } from '../feed/decoders/native.js'
import { MSG_TRADE, OFF_T_ID, OFF_T_PX, OFF_T_SIDE, OFF_T_SZ, SIDE_BUY, SIDE_SELL, SIDE_UNKNOWN, TRADE_LEN } from '../feed/decoders/native.js'
import { PKT_SEQUENCED } from '../feed/soupbin.js'
import { NO_SYMBOL } from '../model/shared-symbols.js'
import { F64_ASK_SZ, F64_BID_PX, F64_EXCH, F64_RECV, F64_SEQ, F64_TRADE_ID, F64_TRADE_PX, F64_TRADE_SZ, KIND_QUOTE, KIND_TRADE, MAX_UNCOMMITTED_EVENTS } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import type { LocateMap } from './locate-map.js'
import type { SymbolSequences } from './symbol-sequences.js'

// Why: the layered path (framer → session → decoder → normalizer, one call chain and one set of bounds checks per layer
// per message) cost ~750 instructions per native quote; this loop does the same work in one function, with every column
// and table hoisted into locals once per run: ~350 (bench/decode-ingest-path.ts under callgrind, see the commit messages).
// It stops at the first packet that is not a well-formed quote or trade of a mapped, unrescaled symbol, and the general
// path (which counts errors, markers, rescaling, other messages) takes that packet. The differential test,
// fused-path.test.ts (src/feed), holds both paths to the same ring, sequences, latest values and counters.
//
// A taken packet, big-endian head then the native QUOTE or TRADE (little-endian, feed/decoders/native.ts):
// 0     2   3      4       5     7        11             19       27       35       43       51
// | len | S | 'Q'  | flags | rsv | locate | timestamp ns | bid px | bid sz | ask px | ask sz |
// | len | S | 'T'  | side  | rsv | locate | timestamp ns | price  | size   | trade id |
// len = 49 / 41 (type byte + 48 / 40); the first four bytes read as one big-endian word are 0x00315351 / 0x00295354.
//
// The loop uses number literals, checked against the layout once at load (below): V8 re-reads a module-level const
// from its context slot, with a hole check, at every use in optimized code (print-opt-code showed it), where a
// literal folds into the instruction.
const FRAME = 2 + 1 + QUOTE_LEN
if (FRAME !== 51 || (((QUOTE_LEN + 1) << 16) | (PKT_SEQUENCED << 8) | MSG_QUOTE) !== 0x00315351 || OFF_LOCATE !== 4 || OFF_TS !== 8 ||
    OFF_Q_FLAGS !== 1 || OFF_Q_BID_PX !== 16 || OFF_Q_BID_SZ !== 24 || OFF_Q_ASK_PX !== 32 || OFF_Q_ASK_SZ !== 40 ||
    MAX_LOCATE !== 0xffffff || NO_SYMBOL !== -1 || KIND_QUOTE !== 1 ||
    F64_SEQ !== 0 || F64_EXCH !== 1 || F64_RECV !== 2 || F64_BID_PX !== 3 || F64_ASK_SZ !== 6 ||
    TRADE_LEN !== 40 || (((TRADE_LEN + 1) << 16) | (PKT_SEQUENCED << 8) | MSG_TRADE) !== 0x00295354 || OFF_T_SIDE !== 1 ||
    OFF_T_PX !== 16 || OFF_T_SZ !== 24 || OFF_T_ID !== 32 || SIDE_BUY !== 0x42 || SIDE_SELL !== 0x53 || SIDE_UNKNOWN !== 0x20 ||
    KIND_TRADE !== 2 || F64_TRADE_PX !== 7 || F64_TRADE_SZ !== 8 || F64_TRADE_ID !== 9) throw new Error('quote-run.ts: the native quote or trade layout changed')
const COMMIT_EVERY = MAX_UNCOMMITTED_EVENTS
const NO_F64 = new Float64Array(0), NO_I32 = new Int32Array(0)

/**
 * µs since the epoch of a u64 ns timestamp given as its 32-bit halves, hi < 1000 × 2^21 (the decoder's bound):
 * floor(ns / 1000) = hi × 4294967 + floor(x / 1000) with x = hi × 296 + lo (2^32 = 4294967 × 1000 + 296), as the
 * decoder's nsToMicros(), but with a multiply where it divides (a divide is ~13 cycles of latency per quote).
 * Exact: x = 1000q + r < 2^40, and the double nearest 0.001 is above it by a factor 1 + 2.1e-17, so x × 0.001 is
 * q + r / 1000 plus less than 2e-8, rounded to nearest: never below q (q is a double), never up to q + 1 (r ≤ 999
 * leaves 0.001, far over the rounding step of 1.2e-7 below 2^30). quote-run.test.ts checks it against BigInt division.
 */
export function microsOf(lo: number, hi: number): number {
  return hi * 4294967 + Math.floor((hi * 296 + lo) * 0.001)
}

/** One per feed session sink: the DataView of the chunk being read, and what the last take() did. */
export class QuoteRun {
  /** packets (= sequenced messages) the last take() consumed */
  taken = 0
  /** the writer's uncommitted event count after the last take() (the normalizer's `pending`) */
  pending = 0
  // A DataView over the chunk's whole ArrayBuffer, offsets shifted by the chunk's byteOffset: the session reads into
  // one reused buffer, so this is made once, not per read (a view per chunk is two allocations per read).
  private ab: ArrayBufferLike | null = null
  dv: DataView = new DataView(new ArrayBuffer(0))

  /**
   * Takes packets from buf[off, end) while each is a whole Sequenced Data packet of one valid native quote or trade of
   * a symbol the feed maps without rescaling (LocateMap.plainIds), writing each as Normalizer.quote() / trade() would
   * (ring slot, per-symbol sequence, last ring sequence, latest values, a commit every MAX_UNCOMMITTED_EVENTS). Returns the offset
   * of the first packet it did not take. The caller guarantees no stale marker is due (staleCount 0) and `maxLen` ≥
   * the packet's length.
   */
  take(buf: Buffer, off: number, end: number, m: LocateMap, r: TickRing, seqs: SymbolSequences, recvTimeMs: number, pending: number): number {
    const ab = buf.buffer, base = buf.byteOffset
    if (ab !== this.ab) { this.ab = ab; this.dv = new DataView(ab) }
    const last = base + end - 51
    let o = base + off, p = pending
    // Inner runs end at each commit point, so the loop (quoteLoop) makes no call; it is a function of its own so that
    // it is optimized on feedback from whole quotes only: with the commit inside it, the first optimization (on
    // stack, in the first 4,096 quotes) ran before any commit and deoptimized at the first one.
    const c0 = r.cursor
    for (;;) {
      const c = r.cursor
      o = quoteLoop(this, o, last, COMMIT_EVERY - p, m, r, seqs, recvTimeMs) // advances r.cursor by the packets taken
      p += r.cursor - c
      if (p < COMMIT_EVERY) break
      p = 0; r.commit()
    }
    this.taken = r.cursor - c0
    this.pending = p
    return o - base
  }
}

/**
 * Takes up to `room` packets from `from`, each starting at or before `last` (where a quote, the longest, still fits);
 * returns where it stopped. Fills ring slots from r.cursor + 1 and advances r.cursor by the packets taken (the caller
 * commits).
 *
 * Its arrays are read from the objects' fields here, never passed in: V8 knows the map of a field it tracks, but checks
 * a parameter's map at every use in the loop. And it re-checks a typed array's map and re-reads its length and data
 * pointer whenever another typed array was written since (a store clears what it knows), ~9 instructions: so the
 * writes are grouped by array, and two quotes are taken per iteration, each group writing both (−50 per quote).
 */
function quoteLoop(run: QuoteRun, from: number, last: number, room: number, m: LocateMap, r: TickRing, seqs: SymbolSequences, recvTimeMs: number): number {
  const v = run.dv, ids = m.plainIds, nLoc = ids.length, mask = r.mask, u8 = r.u8, sym = r.symbolId, f = r.f64, rc = r.capacity
  const both = seqs.both, cap = seqs.capacity, latest = seqs.latest, keep = latest !== null
  const lf = keep ? latest.f : NO_F64, lw = keep ? latest.i32 : NO_I32, recvMs = +recvTimeMs, end = last | 0
  // The Float64 columns through one array (TickRing.f64: column k at k × capacity), the ring's capacity apart; kind and
  // code likewise (TickRing.u8).
  const cExch = rc, cRecv = 2 * rc, cBidP = 3 * rc, cBidS = 4 * rc, cAskP = 5 * rc, cAskS = 6 * rc, cTrP = 7 * rc, cTrS = 8 * rc, cTrId = 9 * rc
  let o = from | 0, c = r.cursor, s = (c + 1) & mask
  const cEnd = c + room // at most `room` packets: the caller commits then
  // Offsets from the packet start: the quote's byte k is at o + 3 + k (see the diagram). `| 0`: int32 adds without an
  // overflow check (DataView's and the arrays' bounds checks still cover every access).
  // The decoder's checks (NativeDecoder quote(): time, then the mantissas' high words against ±2^21 = 0x200000), the
  // same expressions: a quote failing one goes to the decoder to be counted. Two high words are both in [0, 2^22) iff
  // their OR is (sizes in [0, 2^21), prices shifted by 2^21 into [0, 2^22)). Its locate checks (0 < locate ≤
  // 0xffffff) are the table's: the native directory maps no other locate, so such a quote finds no id (-1) here.
  for (;;) {
    // One packet, first: the one the pairs below stopped at (a trade, or A when B is not taken), the last one, or the
    // first. First, so the interpreter has run it before V8 optimizes the pairs' loop: code that has never run when it
    // optimizes deoptimizes when first reached (a second optimization, at a time that differs per process).
    if (o > end || c >= cEnd) break
    const head = v.getUint32(o, false)
    if (head === 0x00315351) {
      const loc = v.getUint32((o + 7) | 0, true), tsLo = v.getUint32((o + 11) | 0, true), tsHi = v.getUint32((o + 15) | 0, true)
      const bpHi = v.getInt32((o + 23) | 0, true), bpLo = v.getUint32((o + 19) | 0, true)
      const bsHi = v.getInt32((o + 31) | 0, true), bsLo = v.getUint32((o + 27) | 0, true)
      const apHi = v.getInt32((o + 39) | 0, true), apLo = v.getUint32((o + 35) | 0, true)
      const asHi = v.getInt32((o + 47) | 0, true), asLo = v.getUint32((o + 43) | 0, true), flags = v.getUint8((o + 4) | 0)
      if (tsHi >= 2097152000 || ((bsHi | asHi) >>> 0) >= 0x200000 ||
          (((bpHi + 0x200000) | (apHi + 0x200000)) >>> 0) >= 0x400000 ||
          (bpHi === -0x200000 && bpLo === 0) || (apHi === -0x200000 && apLo === 0) ||
          ((bsHi | bsLo) === 0 && (bpHi | bpLo) !== 0) || ((asHi | asLo) === 0 && (apHi | apLo) !== 0) ||
          loc >= nLoc) break
      const id = ids[loc]
      if (id === -1) break
      const us = tsHi * 4294967 + Math.floor((tsHi * 296 + tsLo) * 0.001) // microsOf(), inline (a call re-checks its target)
      const bp = bpHi * 4294967296 + bpLo, bs = bsHi * 4294967296 + bsLo, ap = apHi * 4294967296 + apLo, as = asHi * 4294967296 + asLo
      const n = both[id] + 1
      both[id] = n; both[cap + id] = ++c
      u8[s] = 1; u8[(rc + s) | 0] = flags; sym[s] = id
      f[s] = n; f[(cExch + s) | 0] = us; f[(cRecv + s) | 0] = recvMs
      f[(cBidP + s) | 0] = bp; f[(cBidS + s) | 0] = bs; f[(cAskP + s) | 0] = ap; f[(cAskS + s) | 0] = as
      if (keep) {
        const b = (id & 0xffffff) * 24, vi = 2 * b, ver = lw[vi] + 1 // (& : a range V8 knows, so no overflow checks)
        lw[vi] = ver; lw[vi + 1] = flags // odd: being written; the flags are a field like the others
        lf[b + 1] = n; lf[b + 2] = n; lf[b + 3] = us; lf[b + 4] = bp; lf[b + 5] = bs; lf[b + 6] = ap; lf[b + 7] = as
        lw[vi] = ver + 1
      }
      o = (o + 51) | 0
    } else if (head === 0x00295354) { // a trade: 43 bytes, so it fits wherever a quote would (o ≤ end)
      // The decoder's trade() checks: time, size in (0, 2^53), price within ±(2^53 - 1), trade id below 2^53, the side.
      const loc = v.getUint32((o + 7) | 0, true), tsLo = v.getUint32((o + 11) | 0, true), tsHi = v.getUint32((o + 15) | 0, true)
      const pxHi = v.getInt32((o + 23) | 0, true), pxLo = v.getUint32((o + 19) | 0, true)
      const szHi = v.getInt32((o + 31) | 0, true), szLo = v.getUint32((o + 27) | 0, true)
      const tidHi = v.getUint32((o + 39) | 0, true), tidLo = v.getUint32((o + 35) | 0, true), side = v.getUint8((o + 4) | 0)
      if (tsHi >= 2097152000 || (szHi >>> 0) >= 0x200000 || (szHi | szLo) === 0 ||
          ((pxHi + 0x200000) >>> 0) >= 0x400000 || (pxHi === -0x200000 && pxLo === 0) || tidHi >= 0x200000 ||
          (side !== 0x42 && side !== 0x53 && side !== 0x20) || loc >= nLoc) break
      const id = ids[loc]
      if (id === -1) break
      const us = tsHi * 4294967 + Math.floor((tsHi * 296 + tsLo) * 0.001)
      const px = pxHi * 4294967296 + pxLo, sz = szHi * 4294967296 + szLo, tid = tidHi * 4294967296 + tidLo
      const n = both[id] + 1
      both[id] = n; both[cap + id] = ++c
      u8[s] = 2; u8[(rc + s) | 0] = side; sym[s] = id // KIND_TRADE, aggressor side
      f[s] = n; f[(cExch + s) | 0] = us; f[(cRecv + s) | 0] = recvMs
      f[(cTrP + s) | 0] = px; f[(cTrS + s) | 0] = sz; f[(cTrId + s) | 0] = tid
      if (keep) { // LatestValues.trade(): seq, trade seq, time, price, size, id, side at words 1, 8…13; trades (14) + 1
        const b = (id & 0xffffff) * 24, vi = 2 * b, ver = lw[vi] + 1
        lw[vi] = ver
        lf[b + 1] = n; lf[b + 8] = n; lf[b + 9] = us; lf[b + 10] = px; lf[b + 11] = sz; lf[b + 12] = tid; lf[b + 13] = side
        lf[b + 14]++
        lw[vi] = ver + 1
      }
      o = (o + 43) | 0
    } else break
    s = (s + 1) & mask
    // Then two packets A (at o) and B (at p) per iteration while both are taken.
    while (o + 51 <= end && c + 2 <= cEnd) {
      const p = (o + 51) | 0
      if (v.getUint32(o, false) !== 0x00315351 || v.getUint32(p, false) !== 0x00315351) break
      const locA = v.getUint32((o + 7) | 0, true), tsLoA = v.getUint32((o + 11) | 0, true), tsHiA = v.getUint32((o + 15) | 0, true)
      const bpHiA = v.getInt32((o + 23) | 0, true), bpLoA = v.getUint32((o + 19) | 0, true)
      const bsHiA = v.getInt32((o + 31) | 0, true), bsLoA = v.getUint32((o + 27) | 0, true)
      const apHiA = v.getInt32((o + 39) | 0, true), apLoA = v.getUint32((o + 35) | 0, true)
      const asHiA = v.getInt32((o + 47) | 0, true), asLoA = v.getUint32((o + 43) | 0, true), flagsA = v.getUint8((o + 4) | 0)
      const locB = v.getUint32((p + 7) | 0, true), tsLoB = v.getUint32((p + 11) | 0, true), tsHiB = v.getUint32((p + 15) | 0, true)
      const bpHiB = v.getInt32((p + 23) | 0, true), bpLoB = v.getUint32((p + 19) | 0, true)
      const bsHiB = v.getInt32((p + 31) | 0, true), bsLoB = v.getUint32((p + 27) | 0, true)
      const apHiB = v.getInt32((p + 39) | 0, true), apLoB = v.getUint32((p + 35) | 0, true)
      const asHiB = v.getInt32((p + 47) | 0, true), asLoB = v.getUint32((p + 43) | 0, true), flagsB = v.getUint8((p + 4) | 0)
      if (tsHiA >= 2097152000 || ((bsHiA | asHiA) >>> 0) >= 0x200000 ||
          (((bpHiA + 0x200000) | (apHiA + 0x200000)) >>> 0) >= 0x400000 ||
          (bpHiA === -0x200000 && bpLoA === 0) || (apHiA === -0x200000 && apLoA === 0) ||
          ((bsHiA | bsLoA) === 0 && (bpHiA | bpLoA) !== 0) || ((asHiA | asLoA) === 0 && (apHiA | apLoA) !== 0) ||
          locA >= nLoc ||
          tsHiB >= 2097152000 || ((bsHiB | asHiB) >>> 0) >= 0x200000 ||
          (((bpHiB + 0x200000) | (apHiB + 0x200000)) >>> 0) >= 0x400000 ||
          (bpHiB === -0x200000 && bpLoB === 0) || (apHiB === -0x200000 && apLoB === 0) ||
          ((bsHiB | bsLoB) === 0 && (bpHiB | bpLoB) !== 0) || ((asHiB | asLoB) === 0 && (apHiB | apLoB) !== 0) ||
          locB >= nLoc) break
      const idA = ids[locA], idB = ids[locB]
      if (idA === -1 || idB === -1) break // unknown (counted by the normalizer) or rescaled: general path
      const usA = tsHiA * 4294967 + Math.floor((tsHiA * 296 + tsLoA) * 0.001) // microsOf(), inline (a call re-checks its target)
      const bpA = bpHiA * 4294967296 + bpLoA, bsA = bsHiA * 4294967296 + bsLoA, apA = apHiA * 4294967296 + apLoA, asA = asHiA * 4294967296 + asLoA
      const usB = tsHiB * 4294967 + Math.floor((tsHiB * 296 + tsLoB) * 0.001) // microsOf(), inline (a call re-checks its target)
      const bpB = bpHiB * 4294967296 + bpLoB, bsB = bsHiB * 4294967296 + bsLoB, apB = apHiB * 4294967296 + apLoB, asB = asHiB * 4294967296 + asLoB
      const nA = both[idA] + 1
      both[idA] = nA; both[cap + idA] = ++c // seqs.next[id], seqs.lastRingSeq[id]
      const nB = both[idB] + 1 // (after A's: the same symbol twice counts twice)
      both[idB] = nB; both[cap + idB] = ++c
      const t = (s + 1) & mask
      u8[s] = 1; u8[t] = 1; u8[(rc + s) | 0] = flagsA; u8[(rc + t) | 0] = flagsB; sym[s] = idA; sym[t] = idB // kind, code, symbolId
      f[s] = nA; f[t] = nB; f[(cExch + s) | 0] = usA; f[(cExch + t) | 0] = usB; f[(cRecv + s) | 0] = recvMs; f[(cRecv + t) | 0] = recvMs
      f[(cBidP + s) | 0] = bpA; f[(cBidP + t) | 0] = bpB; f[(cBidS + s) | 0] = bsA; f[(cBidS + t) | 0] = bsB
      f[(cAskP + s) | 0] = apA; f[(cAskP + t) | 0] = apB; f[(cAskS + s) | 0] = asA; f[(cAskS + t) | 0] = asB
      if (keep) { // LatestValues.quote() (cache/latest-values.ts: 24 words per symbol), inside the symbol's seqlock; A then B
        const bA = (idA & 0xffffff) * 24, viA = 2 * bA, verA = lw[viA] + 1 // (& : a range V8 knows, so no overflow checks)
        lw[viA] = verA; lw[viA + 1] = flagsA // odd: being written; the flags are a field like the others
        lf[bA + 1] = nA; lf[bA + 2] = nA; lf[bA + 3] = usA; lf[bA + 4] = bpA; lf[bA + 5] = bsA; lf[bA + 6] = apA; lf[bA + 7] = asA
        lw[viA] = verA + 1
        const bB = (idB & 0xffffff) * 24, viB = 2 * bB, verB = lw[viB] + 1 // (& : a range V8 knows, so no overflow checks)
        lw[viB] = verB; lw[viB + 1] = flagsB // odd: being written; the flags are a field like the others
        lf[bB + 1] = nB; lf[bB + 2] = nB; lf[bB + 3] = usB; lf[bB + 4] = bpB; lf[bB + 5] = bsB; lf[bB + 6] = apB; lf[bB + 7] = asB
        lw[viB] = verB + 1
      }
      s = (t + 1) & mask
      o = (o + 102) | 0
    }
  }
  r.cursor = c
  return o
}
