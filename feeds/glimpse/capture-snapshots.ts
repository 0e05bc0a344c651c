// Owns the GLIMPSE book of a capture being replayed: the ITCH messages sent so far, folded into an ItchBookModel
// only when a snapshot is asked for. Must never cost the replay anything per message (it reads the capture index).
import type { LoadedCapture } from '../replay/load-capture.js'
import type { GlimpseSnapshot } from './glimpse-server.js'
import { ItchBookModel } from './itch-book-model.js'

export class CaptureSnapshots {
  readonly model = new ItchBookModel()
  /** capture messages [0, applied) of the current loop are in the model */
  private applied = 0
  /** the replay's loop count when the model was last advanced */
  private loop = 0
  private readonly passStart: Set<number>

  constructor(private readonly cap: LoadedCapture) { this.passStart = new Set(cap.passStarts.filter((s) => s > 0)) }

  /**
   * The book after capture messages [0, sent) of the current loop, paired with the real-time sequence the next one
   * will get. A loop starting over, or a pass of the capture (a new venue session), starts from an empty book.
   */
  at(loop: number, sent: number, nextSeq: number): GlimpseSnapshot {
    const { buf, off, len } = this.cap
    if (loop !== this.loop || sent < this.applied) { this.model.reset(); this.applied = 0; this.loop = loop }
    for (let k = this.applied; k < sent; k++) {
      if (this.passStart.has(k)) this.model.reset()
      this.model.apply(buf, off[k], len[k])
    }
    this.applied = sent
    return { messages: this.model.snapshot(), nextSeq }
  }
}
