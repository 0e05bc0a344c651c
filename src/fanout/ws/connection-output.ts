// Owns what one connection is sent beside its topics' publishes: snapshots (paced, or owed until the writer lets
// them out), symbols held outside its topics (throttled, conflated), and carrying out the writer's ladder decisions.
// Must never decide when a reader is slow or a held symbol is due (writer.ts), nor publish data frames (hub.ts).
import { FORMAT_MSGPACK, FORMAT_NAMES } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import { slowReply, tradesSkippedReply } from '../../subscriptions/protocol.js'
import { Subscriber } from '../../subscriptions/registry.js'
import type { RequestResult } from '../../subscriptions/registry.js'
import type { CloseReason } from '../ws-stats.js'
import { NORMAL, OutputState } from './output-state.js'
import { growScratch, scratch, uniqueRequested } from './snapshot-scratch.js'
import type { ConnectionHost, ConnectionSocket } from './connection-host.js'
import type { DetachedHolder } from './detached-symbols.js'
import type { BatchMember } from './frame-batch.js'
import type { LadderState} from './writer.js';
import {
  HELD_BECAME_DIRTY, HELD_SEND, HELD_SENT, HELD_TICK, HELD_UPDATE, HeldSymbol, LADDER_CATCHING_UP, LADDER_CATCH_UP,
  LADDER_CAUGHT_UP, LADDER_CLOSE, LADDER_CLOSED, LADDER_CONFLATE, LADDER_CONFLATING, LADDER_DRAIN, LADDER_DROPPED, LADDER_NORMAL,
  LADDER_RESUME, LADDER_SCAN, maySendSnapshots, snapshotFrameBytes, stepHeld, stepLadder,
} from './writer.js'

const SEND_DROPPED = 2
/** writeSnapshots: the ids come from this request (write in order) / the owed queue (skip stale) / the throttle (due) */
const FROM_REQUEST = 0, FROM_QUEUE = 1, FROM_THROTTLE = 2
/** scratch, shared by every connection (single thread, never re-entered) */
const dueIds: number[] = []

export class ConnectionOutput extends Subscriber implements DetachedHolder, BatchMember {
  // Measured (heap snapshot, 2,000 idle connections): the ladder, held-symbol and catch-up state as fields of their
  // own cost ~150 B per connection that almost none ever uses; idle memory is held to 1.5x bare uWS (issue 12).
  private out: OutputState | null = null
  /** BatchMember: the hub's frames queued for this connection, and when they go (frame-batch.ts; -1: LISTED_NONE) */
  pending: Int32Array | null = null; pendingCount = 0; flushDue = -1; listedMs = -1

  constructor(format: WireFormat, protected readonly host: ConnectionHost) { super(format) }

  /** read-only view of the slow-consumer ladder (NORMAL until something made an OutputState) */
  get ladder(): LadderState { return this.out ?? NORMAL }
  get closeReason(): CloseReason | null { return this.out?.closeReason ?? null }
  private get state(): OutputState { return this.out ??= new OutputState() }
  private get heldMap(): Map<number, HeldSymbol> | null { return this.out?.heldMap ?? null }
  protected heldOf(id: number): HeldSymbol | undefined { return this.out?.heldMap?.get(id) }
  /** uWS's socket (Subscriber.ws, null before open and after close) */
  protected get sock(): ConnectionSocket | null { return this.ws as ConnectionSocket | null }
  private get held(): Map<number, HeldSymbol> { const st = this.state; return st.heldMap ??= new Map() }
  private get owed(): number[] { const st = this.state; return st.owedIds ??= [] }
  private owesSnapshots(): boolean { const st = this.out; return st !== null && st.owedIds !== null && st.owedHead < st.owedIds.length }

  open(ws: ConnectionSocket): void { this.ws = ws }

  /**
   * A snapshot for every explicit symbol the request lists, held already or not (that is how a client resyncs one),
   * and for every symbol its patterns newly cover. Written here, in the message handler: the dispatcher runs between
   * event-loop callbacks and alone moves the cache, so snapshot n is followed by update n + 1 on this socket. What
   * the writer does not let out now is owed: detached until its snapshot is written, so no update can overtake it.
   */
  protected snapshot(out: RequestResult, nowMs: number): void {
    const n = uniqueRequested(out.added, out.listed, this.host.symbols.capacity), ids = scratch.requested
    let k = 0
    if (!this.owesSnapshots()) k = this.writeSnapshots(ids, 0, n, FROM_REQUEST, nowMs) // none queued: no order to keep
    for (; k < n; k++) this.owe(ids[k])
    this.pump(nowMs)
  }

  /**
   * Writes snap frames of ids[from..] (split by bytes, each ≤ snapshotFrameBytes) and returns where it stopped: paced
   * by the writer unless a throttle made them due. Trades a held symbol did not deliver are signalled before its snap.
   */
  private writeSnapshots(ids: ArrayLike<number>, from: number, end: number, source: number, nowMs: number): number {
    const host = this.host, frames = host.frames, lim = host.limits, maxBytes = snapshotFrameBytes(lim)
    growScratch(host.symbols.capacity) // a catch-up or throttle may come before any request's snapshot
    const frameIds = scratch.frame
    let k = from
    while (k < end && this.sock !== null && this.ladder.mode !== LADDER_CLOSED) {
      if (source !== FROM_THROTTLE && !maySendSnapshots(this.ladder, this.sock.getBufferedAmount(), lim)) break
      frames.begin(this.format, maxBytes)
      let inFrame = 0
      for (; k < end && frames.hasRoom(); k++) {
        const id = ids[k], h = this.heldMap?.get(id)
        if (source === FROM_QUEUE && (h === undefined || !h.owed)) continue // unsubscribed, or written since
        if (h !== undefined) h.owed = false // a held symbol's trades not delivered one by one are signalled before its frame
        const skipped = h === undefined ? frames.add(id) : source === FROM_THROTTLE ? frames.addHeld(h) : frames.add(id, h)
        if (skipped > 0) this.signalTrades(id, skipped)
        frameIds[inFrame++] = id
      }
      if (frames.events > 0) this.send(frames.end(), this.format === FORMAT_MSGPACK)
      if (this.ladder.mode === LADDER_CATCHING_UP) this.state.tally!.snapshots += inFrame
      for (let j = 0; j < inFrame; j++) this.snapshotWritten(frameIds[j], nowMs)
    }
    return k
  }

  /** Its latest value is on the socket: a throttled symbol's interval restarts, any other goes back into its topics. */
  private snapshotWritten(id: number, nowMs: number): void {
    const h = this.heldMap?.get(id)
    if (h === undefined) return // attached all along
    if (h.throttled) { stepHeld(h, HELD_SENT, nowMs); return }
    this.held.delete(id); this.host.hub.attach(this, id)
  }

  private signalTrades(id: number, count: number): void {
    this.host.stats.tradesSkipped += count
    if (this.ladder.mode === LADDER_CATCHING_UP) this.state.tally!.tradesSkipped += count
    this.sendText(tradesSkippedReply(this.host.symbols.name[id], count))
  }

  /** Detaches `id` from uWS (if it is not already) and keeps its state; undefined when the connection lacks it. */
  protected hold(id: number): HeldSymbol | undefined {
    let h = this.heldMap?.get(id)
    if (h !== undefined) return h
    if (!this.host.hub.detach(this, id)) return undefined
    h = new HeldSymbol(id)
    this.held.set(id, h)
    return h
  }

  private owe(id: number): void {
    const h = this.hold(id)
    if (h === undefined || h.owed) return
    h.owed = true
    this.owed.push(id)
  }

  /** Writes owed snapshots while the writer allows; a catch-up whose queue is empty is over. */
  private pump(nowMs: number): void {
    const st = this.out, q = st?.owedIds ?? null
    if (st !== null && q !== null && st.owedHead < q.length) {
      st.owedHead = this.writeSnapshots(q, st.owedHead, q.length, FROM_QUEUE, nowMs)
      if (st.owedHead < q.length) return
      q.length = 0; st.owedHead = 0
    }
    if (this.ladder.mode === LADDER_CATCHING_UP && this.sock !== null) this.step(LADDER_CAUGHT_UP, this.sock.getBufferedAmount(), nowMs)
  }

  /** The host's scan timer (outside any publish): the ladder looks at the buffer; owed snapshots go out if they may. */
  scan(nowMs: number): void { this.look(LADDER_SCAN, nowMs) }

  /** uWS wrote some of the socket's buffer. */
  drain(nowMs: number): void { this.look(LADDER_DRAIN, nowMs) }

  private look(input: number, nowMs: number): void {
    if (this.sock === null) return
    this.step(input, this.sock.getBufferedAmount(), nowMs)
    this.pump(nowMs)
  }

  /**
   * Over the hard limit (uWS maxBackpressure) uWS drops frames, so exact accounting ends here: the ladder's last step
   * closes the connection. This may run inside a uWS callback or the hub's flush: the close is deferred.
   */
  dropped(): void { this.step(LADDER_DROPPED, 0, 0) }

  private step(input: number, bufferedBytes: number, nowMs: number): void {
    const lim = this.host.limits
    // a normal ladder under both limits stays (stepLadder's first case): the scan of idle connections makes no state
    if (this.out === null && input !== LADDER_DROPPED && bufferedBytes <= lim.softBytes && bufferedBytes <= lim.hardBytes) return
    const ladder = this.state, was = ladder.mode, sinceMs = ladder.conflatingSinceMs
    switch (stepLadder(ladder, input, bufferedBytes, nowMs, lim)) {
      case LADDER_CONFLATE: this.conflate(was === LADDER_CATCHING_UP, bufferedBytes); break
      case LADDER_CATCH_UP: this.catchUp(); break
      case LADDER_RESUME: this.resume(); break
      case LADDER_CLOSE:
        if (was === LADDER_CONFLATING) this.host.stats.slowConflating--
        this.host.log.warn(input === LADDER_DROPPED ? { format: FORMAT_NAMES[this.format], over: 'hard limit' }
          : { format: FORMAT_NAMES[this.format], bufferedBytes, conflatedMs: was === LADDER_CONFLATING ? Math.round(nowMs - sinceMs) : 0 }, 'slow consumer closed')
        this.host.closeLater(this)
        break
    }
  }

  /** Ladder step 2: every topic leaves its topics at once, so every frame before is in the buffer and every update after is marked. */
  private conflate(interruptedCatchUp: boolean, bufferedBytes: number): void {
    if (interruptedCatchUp) this.resume() // steps alternate: the rest of that catch-up comes with the next one
    this.ownThrottles(performance.now()) // the ladder needs this connection's own state
    for (const id of this.topics) this.hold(id)
    const stats = this.host.stats
    stats.slowConflating++; stats.slowConflateEntered++
    this.sendText(slowReply('conflating', Date.now(), { bufferedBytes }))
  }

  /** Drained: what changed is owed a snapshot (paced), the rest goes back into its topics now. */
  private catchUp(): void {
    this.host.stats.slowConflating--
    const st = this.state, t = st.tally ??= { symbols: 0, snapshots: 0, tradesSkipped: 0 }
    t.symbols = 0; t.snapshots = 0; t.tradesSkipped = 0
    const held = st.heldMap
    if (held === null) return
    for (const [id, h] of held) {
      if (h.throttled || h.owed) continue
      t.symbols++
      if (h.dirty) { h.owed = true; this.owed.push(id); continue }
      held.delete(id) // deleting the current entry while iterating a Map is safe
      this.host.hub.attach(this, id)
    }
  }

  /** Ladder step back to 1, announced after the catch-up's trades_skipped and snaps. */
  private resume(): void {
    const stats = this.host.stats, t = this.state.tally!
    stats.slowRecovered++; stats.slowCatchupSnapshots += t.snapshots
    this.sendText(slowReply('normal', Date.now(), { symbols: t.symbols, snapshots: t.snapshots, tradesSkipped: t.tradesSkipped }))
  }

  /** maxHz / maxAgeMs: these symbols leave its topics for good; flushThrottled sends their latest state when due. */
  protected throttle(ids: readonly number[], hz: number, ageMs: number, nowMs: number): void {
    let n = 0
    for (const id of ids) {
      const h = this.hold(id)
      if (h === undefined || h.throttled) continue
      h.minIntervalMs = hz > 0 ? 1000 / hz : 0; h.maxAgeMs = ageMs
      h.lastSentMs = nowMs; this.host.frames.baseline(h) // the subscribe snapshot counts as the first value
      n++
    }
    if (n === 0) return
    this.state.throttledCount += n; this.host.stats.throttledSubscriptions += n
    this.host.throttling(this, true)
  }

  /** The host's throttle timer: one frame (or more, by bytes) with the due symbols' snaps. */
  flushThrottled(nowMs: number): void {
    const st = this.out, dirty = st?.dirtyIds ?? null, held = st?.heldMap ?? null
    if (dirty === null || dirty.length === 0 || this.ladder.mode === LADDER_CONFLATING || held === null) return
    dueIds.length = 0
    let keep = 0
    for (const id of dirty) {
      const h = held.get(id)
      if (h === undefined || !h.dirty || !h.throttled) continue
      if (stepHeld(h, HELD_TICK, nowMs) === HELD_SEND) dueIds.push(id)
      else dirty[keep++] = id
    }
    dirty.length = keep
    if (dueIds.length === 0) return
    this.host.stats.throttledUpdates += dueIds.length
    this.writeSnapshots(dueIds, 0, dueIds.length, FROM_THROTTLE, nowMs)
  }

  /** DetachedHolder: the dispatcher published held symbol `id` in this batch. */
  detachedUpdate(id: number, trades: number, nowMs: number): void {
    const h = this.heldMap?.get(id)
    if (h !== undefined && stepHeld(h, HELD_UPDATE, nowMs, trades) === HELD_BECAME_DIRTY && h.throttled) (this.state.dirtyIds ??= []).push(id)
  }

  /** After an unsubscribe: symbols no longer held leave the detached index (stale queue entries are skipped later). */
  protected forgetUnsubscribed(): void {
    const st = this.out, held = st?.heldMap ?? null
    if (st === null || held === null) return
    for (const [id, h] of held) {
      if (this.topics.has(id)) continue
      if (h.throttled) { st.throttledCount--; this.host.stats.throttledSubscriptions-- }
      held.delete(id)
      this.host.hub.forget(this, id)
    }
    if (st.throttledCount === 0) this.host.throttling(this, false)
  }

  sendText(text: string): void { this.send(text, false) }

  /** Held outside its topics (throttled, conflating, owed a snapshot): not resumable from the ring. */
  protected isHeld(id: number): boolean { return this.heldMap?.has(id) === true }

  /** Holds nothing of its own: no owed snapshots, no conflation, no throttles (a shared group may take it over). */
  protected holdsNothing(): boolean { return this.ladder.mode === LADDER_NORMAL && !(this.heldMap?.size ?? 0) && (this.out?.throttledCount ?? 0) === 0 }

  /** Before the ladder conflates, shared throttles become this connection's own (none here: grouped-output.ts). */
  protected ownThrottles(_nowMs: number): void { }

  /** BatchMember: one merged data frame of the hub's (counted by the hub's batch, not here), or a frame of send(). */
  deliver(frame: string | Uint8Array, isBinary: boolean): void {
    const ws = this.sock
    if (ws !== null && ws.send(frame, isBinary, false) === SEND_DROPPED) this.dropped()
  }

  /** A reply, a snapshot or a replayed frame (resume), after what the drain published for it and before what comes next. */
  protected send(data: string | Uint8Array, isBinary: boolean): void {
    if (this.sock === null) return
    if (this.pendingCount !== 0) this.host.hub.batch.flushMember(this) // what the drain published for it goes first
    const stats = this.host.stats
    stats.framesOut++; stats.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length
    this.deliver(data, isBinary)
  }

  /** Ends the socket now (the close handler runs at once). */
  end(reason: CloseReason, code: number, message: string): void {
    if (this.sock === null) return
    this.state.closeReason = reason; this.sock.end(code, message)
  }

  /** The socket closed: give back every held symbol and topic. */
  protected releaseOutput(): void {
    const stats = this.host.stats
    const st = this.state // made now if it never was: the closed mode must stick
    if (st.mode === LADDER_CONFLATING) stats.slowConflating--
    st.mode = LADDER_CLOSED
    if (st.throttledCount > 0) { stats.throttledSubscriptions -= st.throttledCount; st.throttledCount = 0 }
    this.host.throttling(this, false)
    if (st.heldMap !== null) { for (const id of st.heldMap.keys()) this.host.hub.forget(this, id); st.heldMap.clear() }
    st.owedIds = null; st.owedHead = 0; st.dirtyIds = null
    this.host.hub.release(this) // sets ws (and so sock) to null
  }
}
