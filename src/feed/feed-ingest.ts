// Owns the path from one feed session to the ring: sequenced payloads → payload decoder → normalizer.
// Must never count decode errors itself (decoders do) or know about sockets; it only forwards batch boundaries.
import type { Normalizer } from '../normalize/normalizer.js'
import type { PayloadDecoder } from '../normalize/tick-sink.js'
import type { SessionSink } from './session-sink.js'

export class FeedIngest implements SessionSink {
  constructor(private readonly decoder: PayloadDecoder, private readonly normalizer: Normalizer) {}

  beginBatch(recvTimeMs: number): void { this.normalizer.beginBatch(recvTimeMs) }

  message(buf: Buffer, off: number, len: number, _seq: number): void { this.decoder.decode(buf, off, len) }

  endBatch(): void { this.normalizer.endBatch() }
}
