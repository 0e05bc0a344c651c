// Owns writing numbers as ASCII into a caller's buffer: integers and exact decimals from mantissa + exponent.
// Must never go through binary floating point or allocate: prices print exactly as the feed meant them.

/**
 * Writes the integer `x` (0 ≤ x < 2^31) as exactly `n` digits, zero-padded, at `off`. Int32 arithmetic: V8 turns the
 * division by 10 into a multiply and shift (float division per digit made encoding ~3× slower: fanout-cost, issue 12).
 */
function writeDigits(buf: Buffer, off: number, x: number, n: number): number {
  let p = off + n
  while (p > off) { const q = (x / 10) | 0; buf[--p] = 48 + x - q * 10; x = q }
  return off + n
}

/** Writes `x` (0 ≤ x < 2^31, an int32) with no leading zeros. */
function writeUint31(buf: Buffer, off: number, x: number): number {
  const n = x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : x < 100000 ? 5
    : x < 1000000 ? 6 : x < 10000000 ? 7 : x < 100000000 ? 8 : x < 1000000000 ? 9 : 10
  return writeDigits(buf, off, x, n)
}

/** Writes the integer `v` (|v| < 2^53) at `off`; returns the new offset. */
export function writeInt(buf: Buffer, off: number, v: number): number {
  if (v < 0) { buf[off++] = 45; v = -v }
  if (v < 2147483648) return writeUint31(buf, off, v | 0)
  // a microsecond timestamp (16 digits): high part < 2^31, then the low eight digits
  let hi = Math.floor(v / 1e8), lo = v - hi * 1e8
  if (lo < 0) { hi--; lo += 1e8 } else if (lo >= 1e8) { hi++; lo -= 1e8 } // the division rounded up (or down)
  off = writeUint31(buf, off, hi | 0)
  return writeDigits(buf, off, lo | 0, 8)
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

/**
 * Writes mantissa × 10^exponent as a JSON number with no binary rounding: 1891200 × 10^-4 → `189.12`,
 * 12345 × 10^-8 → `0.00012345`. Trailing fractional zeros are dropped (they do not change the value),
 * so JSON.parse(text) prints back as exactly this decimal for up to 15 significant digits.
 */
export function writeDecimal(buf: Buffer, off: number, mantissa: number, exponent: number): number {
  if (exponent >= 0) {
    off = writeInt(buf, off, mantissa)
    if (mantissa !== 0) for (let k = 0; k < exponent; k++) buf[off++] = 48
    return off
  }
  let v = mantissa
  if (v < 0) { buf[off++] = 45; v = -v }
  const scale = Math.min(-exponent, 22), p = POW10[scale] // |mantissa| < 2^53 < 10^16: a larger scale only pads zeros
  // integer part and fraction, exact: ip × p ≤ v < 2^53, and the correction undoes a division that rounded
  let ip = Math.floor(v / p), frac = v - ip * p
  if (frac < 0) { ip--; frac += p } else if (frac >= p) { ip++; frac -= p }
  off = writeInt(buf, off, ip)
  if (frac === 0) return off
  let n = -exponent
  while (frac % 10 === 0) { frac /= 10; n-- } // the fraction's trailing zeros
  buf[off++] = 46
  if (n > scale) for (let k = scale; k < n; k++) buf[off++] = 48 // (scale capped: leading zeros past 10^-22)
  const width = Math.min(n, scale)
  if (frac < 2147483648) return writeDigits(buf, off, frac | 0, width)
  let q = off + width
  while (q > off) { const d = Math.floor(frac / 10); buf[--q] = 48 + (frac - d * 10); frac = d }
  return off + width
}

/** Copies a precomputed byte string (keys, punctuation) into `buf`. */
export function writeBytes(buf: Buffer, off: number, bytes: Uint8Array): number {
  // a byte loop, not buf.set: keys are 4–10 bytes, and set() cost ~240 instructions a call (a megamorphic load and the
  // builtin; callgrind over fanout-cost), the loop ~30
  for (let k = 0; k < bytes.length; k++) buf[off + k] = bytes[k]
  return off + bytes.length
}

export function ascii(s: string): Buffer { return Buffer.from(s, 'latin1') }
