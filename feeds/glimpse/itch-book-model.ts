// Owns a plain model of what an ITCH 5.0 stream has said so far (directory, trading states, live orders), and writing
// it back out as the ITCH messages of a GLIMPSE snapshot. Must never sit on a server's hot path: feed tools apply
// messages to it lazily, when a snapshot is asked for, and it allocates per order (a Map entry and a message copy).
import { ITCH_LENGTHS, OFF_A_PRICE, OFF_A_SHARES, OFF_LOCATE, OFF_REF, OFF_U_NEW_REF, OFF_U_PRICE, OFF_U_SHARES } from '../../src/feed/decoders/itch.js'

const T_SYSTEM = 0x53, T_DIRECTORY = 0x52, T_TRADING = 0x48, T_REG_SHO = 0x59
const T_ADD = 0x41, T_ADD_MPID = 0x46, T_EXEC = 0x45, T_EXEC_PRICE = 0x43, T_CANCEL = 0x58, T_DELETE = 0x44, T_REPLACE = 0x55
const OFF_SHARES_REDUCED = 19, OFF_TS = 5, TS_LEN = 6

/** A live order: its Add Order message (A or F) as it would be sent now: shares, price and ref kept current. */
interface Order { msg: Buffer; shares: number }

const ref64 = (b: Buffer, o: number): number => b.readUInt32BE(o) * 2 ** 32 + b.readUInt32BE(o + 4) // exact below 2^53

export class ItchBookModel {
  /** the latest System Event */
  private system: Buffer | null = null
  private readonly directory = new Map<number, Buffer>()
  private readonly trading = new Map<number, Buffer>()
  private readonly regSho = new Map<number, Buffer>()
  /** live orders by ref; Map order = time priority (a replace re-inserts, as it loses priority) */
  private readonly orders = new Map<number, Order>()
  /** messages applied since the last reset, and references to orders the model never saw */
  applied = 0
  unknownRefs = 0

  get liveOrders(): number { return this.orders.size }

  /** Forgets everything: a new trading session (a pass of a capture, a loop) starts from an empty book. */
  reset(): void {
    this.system = null
    this.directory.clear(); this.trading.clear(); this.regSho.clear(); this.orders.clear()
    this.applied = 0; this.unknownRefs = 0
  }

  /** Applies one ITCH message; anything that is not a well-formed ITCH 5.0 message of its type is ignored. */
  apply(b: Buffer, o: number, len: number): void {
    const t = b[o]
    if (len < 1 || ITCH_LENGTHS[t] !== len) return
    this.applied++
    const locate = b.readUInt16BE(o + OFF_LOCATE)
    switch (t) {
      case T_SYSTEM: this.system = copy(b, o, len); break
      case T_DIRECTORY: this.directory.set(locate, copy(b, o, len)); break
      case T_TRADING: this.trading.set(locate, copy(b, o, len)); break
      case T_REG_SHO: this.regSho.set(locate, copy(b, o, len)); break
      case T_ADD: case T_ADD_MPID: {
        const msg = copy(b, o, len)
        this.orders.set(ref64(b, o + OFF_REF), { msg, shares: msg.readUInt32BE(OFF_A_SHARES) })
        break
      }
      case T_EXEC: case T_EXEC_PRICE: case T_CANCEL: this.reduce(ref64(b, o + OFF_REF), b.readUInt32BE(o + OFF_SHARES_REDUCED)); break
      case T_DELETE: if (!this.orders.delete(ref64(b, o + OFF_REF))) this.unknownRefs++; break
      case T_REPLACE: {
        const oldRef = ref64(b, o + OFF_REF), old = this.orders.get(oldRef)
        if (!old) { this.unknownRefs++; break }
        this.orders.delete(oldRef)
        const shares = b.readUInt32BE(o + OFF_U_SHARES)
        if (shares === 0) break
        // the new order keeps symbol, side and attribution; it takes the replace's ref, shares, price and time
        const msg = Buffer.from(old.msg)
        b.copy(msg, OFF_REF, o + OFF_U_NEW_REF, o + OFF_U_NEW_REF + 8)
        msg.writeUInt32BE(b.readUInt32BE(o + OFF_U_PRICE), OFF_A_PRICE)
        b.copy(msg, OFF_TS, o + OFF_TS, o + OFF_TS + TS_LEN)
        this.orders.set(ref64(b, o + OFF_U_NEW_REF), { msg, shares })
        break
      }
      default: break // trades, imbalances, auctions: nothing a book snapshot carries
    }
  }

  /**
   * The snapshot as ITCH messages: the latest System Event, then per locate (ascending) its Stock Directory, Stock
   * Trading Action and Reg SHO state, then every live order as the Add Order that would create it now, oldest first.
   */
  snapshot(): Buffer[] {
    const out: Buffer[] = []
    if (this.system) out.push(this.system)
    const locates = [...new Set([...this.directory.keys(), ...this.trading.keys(), ...this.regSho.keys()])].sort((a, b) => a - b)
    for (const l of locates) for (const m of [this.directory.get(l), this.trading.get(l), this.regSho.get(l)]) if (m) out.push(m)
    for (const o of this.orders.values()) {
      o.msg.writeUInt32BE(o.shares, OFF_A_SHARES)
      out.push(o.msg)
    }
    return out
  }

  /** Test and tool view: shares left of an order (0 = not live). */
  sharesOf(ref: number): number { return this.orders.get(ref)?.shares ?? 0 }

  private reduce(ref: number, shares: number): void {
    const o = this.orders.get(ref)
    if (!o) { this.unknownRefs++; return }
    o.shares -= Math.min(shares, o.shares)
    if (o.shares === 0) this.orders.delete(ref)
  }
}

function copy(b: Buffer, o: number, len: number): Buffer { return Buffer.from(b.subarray(o, o + len)) }
