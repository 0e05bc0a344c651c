// Owns turning a msgpack integer mantissa + decimal exponent into the number the JSON encoding would give.
// Must never multiply by a power of ten in floating point: 12345 × 1e-8 is not the double nearest 0.00012345.

/**
 * mantissa × 10^exponent as the double nearest the exact decimal, i.e. the same number JSON.parse gives for
 * tickcast's JSON text of that value. Building the string `"12345e-8"` hands the rounding to the engine's
 * decimal parser, which rounds correctly once; `12345 * 10 ** -8` rounds twice and can be off by one ulp.
 */
export function scaledToNumber(mantissa: number, exponent: number): number {
  if (exponent === 0) return mantissa
  return Number(mantissa + 'e' + exponent)
}

/** Same as scaledToNumber, with null (an absent value in a snapshot) passed through. */
export function scaledOrNull(mantissa: unknown, exponent: number): number | null {
  return typeof mantissa === 'number' ? scaledToNumber(mantissa, exponent) : null
}

/** The exact decimal text of mantissa × 10^exponent ("0.00012345"), for display without float artefacts. */
export function scaledToString(mantissa: number, exponent: number): string {
  const neg = mantissa < 0
  let digits = String(neg ? -mantissa : mantissa)
  if (exponent >= 0) return (neg ? '-' : '') + (mantissa === 0 ? '0' : digits + '0'.repeat(exponent))
  const scale = -exponent
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits
  let int = digits.slice(0, digits.length - scale), frac = digits.slice(digits.length - scale)
  frac = frac.replace(/0+$/, '')
  if (int === '') int = '0'
  return (neg && mantissa !== 0 ? '-' : '') + int + (frac ? '.' + frac : '')
}
