// Owns a hand-driven pipeline for MQTT publisher tests: a ring, an LVC and a normalizer fed one event at a time.
// Must never stand in for the broker or the publisher: tests attach a real MqttPublisher and a real mosquitto.
import { expect } from 'vitest'
import { LastValueCache } from '../src/cache/last-value-cache.js'
import type { MqttPublisher } from '../src/fanout/mqtt-publisher.js'
import { SharedSymbols } from '../src/model/shared-symbols.js'
import { SymbolTable } from '../src/model/symbols.js'
import { Normalizer, SymbolSequences } from '../src/normalize/normalizer.js'
import { TickRing } from '../src/ring/ring-buffer.js'

const CAP = 1024

/** Ring + LVC + normalizer driven by hand, exactly as the dispatcher would: apply to the LVC, then offer. */
export class Rig {
  readonly shared = new SharedSymbols(CAP)
  readonly symbols = new SymbolTable(this.shared)
  readonly ring = new TickRing(4096)
  readonly lvc = new LastValueCache(CAP)
  readonly norm = new Normalizer(this.ring, this.shared, new SymbolSequences(CAP))
  pub: MqttPublisher | null = null

  /** the symbol as ingest adds it, learned as the dispatcher would when its KIND_SYMBOL passes */
  add(name: string): number { const id = this.norm.locateOf(name, -4, 0); this.symbols.learnUpTo(id); return id }
  quote(id: number, bid: number, size = 100): void {
    expect(this.norm.quote(id, 1_732_619_000_000_000 + this.ring.cursor, bid, size, bid + 1, size * 2, 0)).toBe(0)
    this.deliver()
  }
  trade(id: number, px: number): void {
    expect(this.norm.trade(id, 1_732_619_000_000_000, px, 10, this.ring.cursor + 1, 66)).toBe(0)
    this.deliver()
  }
  status(id: number, code: number): void {
    expect(this.norm.status(id, 1_732_619_000_000_000, code)).toBe(0)
    this.deliver()
  }
  private deliver(): void {
    const i = this.ring.cursor & this.ring.mask
    this.lvc.apply(this.ring, i)
    this.pub?.offer(this.ring, i)
  }
}
