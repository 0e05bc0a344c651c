// Owns writing numbers as ASCII into a caller's buffer: integers and exact decimals from mantissa + exponent.
// Must never go through binary floating point or allocate: prices print exactly as the feed meant them.

const digits = new Uint8Array(24)

/** Writes the integer `v` (|v| < 2^53) at `off`; returns the new offset. */
export function writeInt(buf: Buffer, off: number, v: number): number {
  if (v < 0) { buf[off++] = 45; v = -v }
  if (v < 10) { buf[off] = 48 + v; return off + 1 }
  let n = 0
  while (v > 0) { const q = Math.floor(v / 10); digits[n++] = 48 + (v - q * 10); v = q }
  while (n > 0) buf[off++] = digits[--n]
  return off
}

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
  const scale = -exponent
  let n = 0
  while (v > 0) { const q = Math.floor(v / 10); digits[n++] = 48 + (v - q * 10); v = q }
  // digits[] holds the mantissa least significant first; skip the fraction's trailing zeros
  let lo = 0
  while (lo < scale && lo < n && digits[lo] === 48) lo++
  if (lo < scale && n <= lo) lo = scale // all-zero fraction
  const intDigits = n - scale
  if (intDigits <= 0) buf[off++] = 48
  else for (let k = n - 1; k >= scale; k--) buf[off++] = digits[k]
  if (lo < scale) {
    buf[off++] = 46
    for (let k = scale - 1; k >= lo; k--) buf[off++] = k < n ? digits[k] : 48
  }
  return off
}

/** Copies a precomputed byte string (keys, punctuation) into `buf`. */
export function writeBytes(buf: Buffer, off: number, bytes: Uint8Array): number {
  buf.set(bytes, off)
  return off + bytes.length
}

export function ascii(s: string): Buffer { return Buffer.from(s, 'latin1') }
