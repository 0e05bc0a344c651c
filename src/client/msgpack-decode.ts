// Owns decoding the MessagePack subset tickcast emits (maps, arrays, strings, ints, floats, nil, bools) into plain values.
// Must never depend on Node (Buffer) or a package: it runs in browsers as-is, and it never returns BigInt.

/** Decoding failed: truncated input, or a type tickcast never sends (bin, ext, timestamps). */
export class MsgpackDecodeError extends Error {
  constructor(message: string, readonly offset: number) { super(`${message} at byte ${offset}`); this.name = 'MsgpackDecodeError' }
}

const TWO_32 = 4294967296
const utf8 = new TextDecoder()

/** One reader per frame: a cursor over a DataView (no copies; strings are the only allocations). */
class Reader {
  off = 0
  readonly view: DataView
  constructor(readonly bytes: Uint8Array) { this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) }

  need(n: number): void {
    if (this.off + n > this.bytes.length) throw new MsgpackDecodeError(`truncated: need ${n} more bytes`, this.off)
  }

  u8(): number { this.need(1); return this.bytes[this.off++] }
  u16(): number { this.need(2); const v = this.view.getUint16(this.off); this.off += 2; return v }
  u32(): number { this.need(4); const v = this.view.getUint32(this.off); this.off += 4; return v }

  str(len: number): string {
    this.need(len)
    const b = this.bytes, start = this.off, end = start + len
    this.off = end
    // symbols and keys are short ASCII: char codes beat TextDecoder's call overhead there
    if (len <= 16) {
      let s = ''
      for (let i = start; i < end; i++) {
        const c = b[i]
        if (c >= 0x80) return utf8.decode(b.subarray(start, end))
        s += String.fromCharCode(c)
      }
      return s
    }
    return utf8.decode(b.subarray(start, end))
  }

  array(len: number): unknown[] {
    const a = new Array<unknown>(len)
    for (let i = 0; i < len; i++) a[i] = this.value()
    return a
  }

  map(len: number): Record<string, unknown> {
    const m: Record<string, unknown> = {}
    for (let i = 0; i < len; i++) {
      const k = this.value()
      if (typeof k !== 'string' && typeof k !== 'number') throw new MsgpackDecodeError('map key must be a string or number', this.off)
      m[k] = this.value()
    }
    return m
  }

  /**
   * 64-bit integers as `hi * 2^32 + lo` (exact below 2^53; tickcast writes larger values as float64,
   * so beyond that precision loss is the sender's choice, never a BigInt here).
   */
  value(): unknown {
    const t = this.u8()
    if (t <= 0x7f) return t // positive fixint
    if (t >= 0xe0) return t - 0x100 // negative fixint
    if (t <= 0x8f) return this.map(t & 0x0f)
    if (t <= 0x9f) return this.array(t & 0x0f)
    if (t <= 0xbf) return this.str(t & 0x1f)
    const v = this.view
    switch (t) {
      case 0xc0: return null
      case 0xc2: return false
      case 0xc3: return true
      case 0xca: { this.need(4); const x = v.getFloat32(this.off); this.off += 4; return x }
      case 0xcb: { this.need(8); const x = v.getFloat64(this.off); this.off += 8; return x }
      case 0xcc: return this.u8()
      case 0xcd: return this.u16()
      case 0xce: return this.u32()
      case 0xcf: { const hi = this.u32(), lo = this.u32(); return hi * TWO_32 + lo }
      case 0xd0: { this.need(1); const x = v.getInt8(this.off); this.off += 1; return x }
      case 0xd1: { this.need(2); const x = v.getInt16(this.off); this.off += 2; return x }
      case 0xd2: { this.need(4); const x = v.getInt32(this.off); this.off += 4; return x }
      case 0xd3: { this.need(8); const hi = v.getInt32(this.off), lo = v.getUint32(this.off + 4); this.off += 8; return hi * TWO_32 + lo }
      case 0xd9: return this.str(this.u8())
      case 0xda: return this.str(this.u16())
      case 0xdb: return this.str(this.u32())
      case 0xdc: return this.array(this.u16())
      case 0xdd: return this.array(this.u32())
      case 0xde: return this.map(this.u16())
      case 0xdf: return this.map(this.u32())
      default: throw new MsgpackDecodeError(`unsupported type byte 0x${t.toString(16)}`, this.off - 1)
    }
  }
}

/** Decodes exactly one MessagePack value filling `bytes`; throws MsgpackDecodeError on bad or trailing input. */
export function decodeMsgpack(bytes: Uint8Array | ArrayBuffer): unknown {
  const r = new Reader(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))
  const v = r.value()
  if (r.off !== r.bytes.length) throw new MsgpackDecodeError('trailing bytes', r.off)
  return v
}
