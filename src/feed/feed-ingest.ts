// Owns the path from one feed session to the ring: sequenced payloads → payload decoder → normalizer.
// Must never count decode errors itself (decoders do) or know about sockets; it only forwards batch boundaries.
import { QUOTE_LEN } from './decoders/native.js'
import { NativeDecoder } from './decoders/native.js'
import type { Normalizer } from '../normalize/normalizer.js'
import { QuoteRun } from '../normalize/quote-run.js'
import type { PayloadDecoder } from '../normalize/tick-sink.js'
import type { SessionSink } from './session-sink.js'

/** length field of a packet the fused path takes: type byte + one native quote */
const QUOTE_PACKET_LEN = QUOTE_LEN + 1

export class FeedIngest implements SessionSink {
  /** the fused path for runs of native quotes and trades (normalize/quote-run.ts); absent for the other protocols */
  readonly take: SessionSink['take']
  private readonly run = new QuoteRun()

  constructor(private readonly decoder: PayloadDecoder, private readonly normalizer: Normalizer) {
    this.take = decoder instanceof NativeDecoder ? this.takeQuotes.bind(this) : undefined
  }

  get taken(): number { return this.run.taken }

  beginBatch(recvTimeMs: number): void { this.normalizer.beginBatch(recvTimeMs) }

  message(buf: Buffer, off: number, len: number, _seq: number): void { this.decoder.decode(buf, off, len) }

  endBatch(): void { this.normalizer.endBatch() }

  private takeQuotes(buf: Buffer, off: number, end: number, maxLen: number): number {
    if (maxLen < QUOTE_PACKET_LEN) { this.run.taken = 0; return off } // the session calls such a packet bad: general path
    return this.normalizer.takeQuotes(this.run, buf, off, end)
  }
}
