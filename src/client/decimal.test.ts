// Mantissa + exponent → number: the same double JSON.parse gives for the server's exact decimal text.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { writeDecimal } from '../codec/ascii.js'
import { scaledToNumber, scaledToString } from './decimal.js'

const buf = Buffer.alloc(64)
const serverText = (m: number, x: number): string => buf.toString('latin1', 0, writeDecimal(buf, 0, m, x))

describe('scaledToNumber / scaledToString', () => {
  it('keeps 0.00012345 and 180.1234 exact where floating-point multiplication does not', () => {
    expect(scaledToNumber(12345, -8)).toBe(0.00012345)
    expect(scaledToNumber(1801234, -4)).toBe(180.1234)
    expect(1801234 * 10 ** -4).not.toBe(180.1234) // why the string route exists
    expect(scaledToString(12345, -8)).toBe('0.00012345')
    expect(scaledToString(-1891200, -4)).toBe('-189.12')
    expect(scaledToString(0, -4)).toBe('0')
    expect(scaledToString(15, 2)).toBe('1500')
  })

  it('matches JSON.parse of the server\'s JSON text for any mantissa up to 2^53 and exponent -8..4', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.integer({ min: -8, max: 4 }), (m, x) => {
      const text = serverText(m, x)
      expect(scaledToNumber(m, x)).toBe(JSON.parse(text))
      expect(Number(scaledToString(m, x))).toBe(JSON.parse(text))
      if (x <= 0) expect(scaledToString(m, x)).toBe(text)
    }), { numRuns: 2000 })
  })
})
