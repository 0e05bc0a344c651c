// Owns throttle groups: connections throttled alike on every symbol (`*`, one rate, one format, no entitlement filter)
// share one throttle state and one uWS topic, so a due symbol is encoded and published once for all of them.
// Must never hold a connection's own state (ladder, owed snapshots): a member that needs any leaves its group first.
//
// Why: throttled symbols leave uWS and each connection re-sent its due symbols itself, encoding them once per
// connection. 100 `*` clients at maxHz:100 cost 71 % CPU against 20 % for 100 unthrottled ones (issue 10): throttling
// did more work than it saved. A group does the throttle once; uWS fans the frame out as it does any topic.
import { FORMAT_MSGPACK, FORMAT_NAMES } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import type { SymbolTable } from '../../model/symbols.js'
import { tradesSkippedReply } from '../../subscriptions/protocol.js'
import type { WsStats } from '../ws-stats.js'
import type { HostedConnection } from './connection-host.js'
import type { DetachedHolder } from './detached-symbols.js'
import type { TopicPublisher } from './hub.js'
import type { SnapshotFrames } from './snapshot-frames.js'
import { HELD_SEND, HELD_SENT, HELD_TICK, HELD_UPDATE, HELD_BECAME_DIRTY, HeldSymbol, stepHeld } from './writer.js'

/** What groups share with the server: the app to publish on, who tells them of updates, encoding, the timer. */
export interface GroupContext {
  readonly app: TopicPublisher
  /** the hub's detached index: the group is told of its symbols' updates once, not once per member */
  watch(h: DetachedHolder, id: number): void
  unwatch(h: DetachedHolder, id: number): void
  readonly frames: SnapshotFrames
  readonly symbols: SymbolTable
  readonly stats: WsStats
  readonly maxFrameBytes: number
  /** the group has members (true) or none (false): the host's throttle timer visits it */
  throttling(g: HostedConnection, on: boolean): void
}

const frameIds: number[] = [], dueIds: number[] = []

export class ThrottleGroup implements DetachedHolder, HostedConnection {
  /** the uWS topic members subscribe to; never a symbol's topic (those are `json/X`, `msgpack/X`) */
  readonly topic: Buffer
  members = 0
  private readonly held: Array<HeldSymbol | undefined> = []
  private readonly watched: number[] = []
  private readonly dirty: number[] = []

  constructor(readonly key: string, readonly format: WireFormat, readonly hz: number, readonly ageMs: number, private readonly ctx: GroupContext) {
    this.topic = Buffer.from(`throttle/${key}`, 'latin1')
  }

  /** Symbol `id` is throttled by this group from now on (idempotent). */
  cover(id: number): void {
    if (this.held[id] !== undefined) return
    const h = new HeldSymbol(id)
    h.minIntervalMs = this.hz > 0 ? 1000 / this.hz : 0; h.maxAgeMs = this.ageMs
    this.ctx.frames.baseline(h) // members joined with every update so far (their subscribe snapshots were written)
    this.held[id] = h
    this.watched.push(id)
    this.ctx.watch(this, id)
  }

  /** What the group holds of symbol `id`: a member leaving keeps its baseline, and what is unsent stays owed. */
  heldOf(id: number): HeldSymbol | undefined { return this.held[id] }

  /** DetachedHolder: the dispatcher published symbol `id` in this batch. */
  detachedUpdate(id: number, trades: number, nowMs: number): void {
    const h = this.held[id]
    if (h !== undefined && stepHeld(h, HELD_UPDATE, nowMs, trades) === HELD_BECAME_DIRTY) this.dirty.push(id)
  }

  /** The host's throttle timer: the due symbols' snaps, encoded once, published once to every member. */
  flushThrottled(nowMs: number): void {
    const dirty = this.dirty
    if (dirty.length === 0 || this.members === 0) return
    dueIds.length = 0
    let keep = 0
    for (const id of dirty) {
      const h = this.held[id]!
      if (!h.dirty) continue
      if (stepHeld(h, HELD_TICK, nowMs) === HELD_SEND) dueIds.push(id)
      else dirty[keep++] = id
    }
    dirty.length = keep
    if (dueIds.length === 0) return
    const ctx = this.ctx, stats = ctx.stats, n = this.members, binary = this.format === FORMAT_MSGPACK
    stats.throttledUpdates += dueIds.length * n
    let k = 0
    while (k < dueIds.length) {
      ctx.frames.begin(this.format, ctx.maxFrameBytes)
      frameIds.length = 0
      for (; k < dueIds.length && ctx.frames.hasRoom(); k++) {
        const id = dueIds[k], skipped = ctx.frames.addHeld(this.held[id]!)
        if (skipped > 0) { // trades not delivered one by one are signalled before the frame, as for one connection
          stats.tradesSkipped += skipped * n
          this.publish(tradesSkippedReply(ctx.symbols.name[id], skipped), false)
        }
        frameIds.push(id)
      }
      if (ctx.frames.events > 0) this.publish(ctx.frames.end(), binary)
      for (const id of frameIds) stepHeld(this.held[id]!, HELD_SENT, nowMs)
    }
  }

  private publish(data: string | Uint8Array, binary: boolean): void {
    const stats = this.ctx.stats
    stats.framesOut += this.members
    stats.bytesOut += (typeof data === 'string' ? Buffer.byteLength(data) : data.length) * this.members
    this.ctx.app.publish(this.topic, typeof data === 'string' ? Buffer.from(data) : data, binary, false)
  }

  /** No members left: stop being told of updates. */
  release(): void {
    for (const id of this.watched) this.ctx.unwatch(this, id)
    this.watched.length = 0; this.held.length = 0; this.dirty.length = 0
  }

  // HostedConnection: the host's scan and deferred closes never concern a group
  scan(): void {}
  end(): void {}
}

export class ThrottleGroups {
  private readonly groups = new Map<string, ThrottleGroup>()

  constructor(private readonly ctx: GroupContext) {}

  /** The group for this format and effective rate (made on first use); the caller subscribes the member's socket. */
  join(format: WireFormat, hz: number, ageMs: number): ThrottleGroup {
    const key = `${FORMAT_NAMES[format]}/${hz}/${ageMs}`
    let g = this.groups.get(key)
    if (g === undefined) { g = new ThrottleGroup(key, format, hz, ageMs, this.ctx); this.groups.set(key, g) }
    if (g.members++ === 0) this.ctx.throttling(g, true)
    return g
  }

  /** A member left (the caller unsubscribed its socket); the last one out releases the group. */
  leave(g: ThrottleGroup): void {
    if (--g.members > 0) return
    this.ctx.throttling(g, false)
    g.release()
    this.groups.delete(g.key)
  }

  get size(): number { return this.groups.size }
}
