// The client's msgpack decoder against msgpackr (an independent encoder) and the server's own writers.
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { writeMpInt } from '../codec/msgpack-codec.js'
import { decodeMsgpack, MsgpackDecodeError } from './msgpack-decode.js'

const packr = new Packr({ useRecords: false, variableMapSize: true })
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.constant(null), fc.boolean(), fc.maxSafeInteger(), fc.integer(), fc.double({ noNaN: true }).filter((v) => !Object.is(v, -0)), // msgpackr writes -0 as the integer 0
    fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 300 })),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), tie('node'), { maxKeys: 20 })),
})).node

describe('decodeMsgpack', () => {
  it('decodes whatever msgpackr encodes (maps, arrays, strings of every length class, ints, floats, nil, bools)', () => {
    fc.assert(fc.property(value, (v) => { expect(decodeMsgpack(packr.pack(v))).toEqual(v) }), { numRuns: 300 })
  })

  it('decodes every integer width the server writes, exactly, as plain numbers', () => {
    const buf = Buffer.alloc(16)
    for (const v of [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 1732619000123456, 2 ** 53, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1]) {
      const end = writeMpInt(buf, 0, v)
      expect(decodeMsgpack(buf.subarray(0, end))).toBe(v)
    }
  })

  it('reads 64-bit integers (uint64/int64) as hi * 2^32 + lo, never BigInt', () => {
    expect(decodeMsgpack(Uint8Array.from([0xcf, 0, 0x06, 0x27, 0x2b, 0x4c, 0x8f, 0x1c, 0x40]))).toBe(0x0006272b4c8f1c40)
    expect(decodeMsgpack(Uint8Array.from([0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))).toBe(-2)
  })

  it('reports truncated input, trailing bytes and unsupported types instead of returning garbage', () => {
    const whole = packr.pack({ e: 'q', s: 'AAPL', n: 70000 })
    for (let cut = 0; cut < whole.length; cut++) expect(() => decodeMsgpack(whole.subarray(0, cut))).toThrow(MsgpackDecodeError)
    expect(() => decodeMsgpack(Uint8Array.from([0xc0, 0xc0]))).toThrow(/trailing/)
    expect(() => decodeMsgpack(Uint8Array.from([0xc4, 1, 0]))).toThrow(/unsupported type byte 0xc4/)
  })
})
