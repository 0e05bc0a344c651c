// Owns a connection's seat in a shared throttle group (throttle-groups.ts): joining, covering symbols learned later,
// and leaving with the same throttle as its own. Must never send frames itself: the group's topic carries them.
import type { RequestResult } from '../../subscriptions/registry.js'
import { ConnectionOutput } from './connection-output.js'
import type { ThrottleGroup } from './throttle-groups.js'

export class GroupedOutput extends ConnectionOutput {
  /** the throttle group this connection's topics are all throttled by; null = its own throttle */
  protected group: ThrottleGroup | null = null
  private groupCount = 0

  protected override isHeld(id: number): boolean { return this.group !== null || super.isHeld(id) }

  protected override ownThrottles(nowMs: number): void { if (this.group !== null) this.leaveGroup(nowMs, true) }

  protected override releaseOutput(): void {
    if (this.group !== null) this.leaveGroup(0, false)
    super.releaseOutput()
  }

  /**
   * May this connection's topics (all just subscribed through `*`, with their snapshots written) be throttled by a
   * shared group? Not while it holds anything of its own: owed snapshots, conflation, other throttles.
   */
  protected mayJoinGroup(): boolean {
    return this.host.groups !== undefined && this.group === null && this.sock !== null && this.holdsNothing()
  }

  /**
   * Subscribes `entries` for a request whose every new topic is throttled in this same handler (a first `*` with a
   * rate, on a connection holding nothing: it joins a group, or throttles each symbol itself): its topics never enter
   * uWS, since each would leave it at once. 500 uWS subscribe + unsubscribe pairs per `*` member were most of what a
   * throttled `*` subscribe cost beyond an unthrottled one (issue 10). The detach that follows finds nothing in the topics.
   */
  protected subscribeOutsideUws(entries: readonly string[], out: RequestResult): void {
    const ws = this.ws
    this.ws = null // the registry joins topics only with a socket (Subscriber.ws)
    try { this.host.hub.subscribe(this, entries, out) } finally { this.ws = ws }
  }

  /** Every topic leaves its topics for the group's topic: the group sends their latest values at its rate. */
  protected joinGroup(hz: number, ageMs: number): void {
    const host = this.host, g = host.groups!.join(this.format, hz, ageMs), registry = host.hub.registry
    for (const id of this.topics) { registry.detach(this, id); g.cover(id) }
    this.sock!.subscribe(g.topic)
    this.group = g; this.groupCount = this.topics.size
    host.stats.throttledSubscriptions += this.groupCount
  }

  /** A pattern covered a symbol learned later: in a group, the group throttles it too. False when not in a group. */
  protected groupLearned(id: number): boolean {
    const g = this.group
    if (g === null) return false
    this.host.hub.registry.detach(this, id); g.cover(id)
    this.groupCount++; this.host.stats.throttledSubscriptions++
    return true
  }

  /**
   * Leaves the group. `keep`: the same throttle goes on, this connection's own (an unsubscribe, narrowed
   * entitlements, the ladder); what the group had not sent yet stays owed. Else the socket is closing.
   */
  protected leaveGroup(nowMs: number, keep: boolean): void {
    const g = this.group!, host = this.host, registry = host.hub.registry
    this.group = null
    host.stats.throttledSubscriptions -= this.groupCount; this.groupCount = 0
    host.groups!.leave(g)
    if (!keep || this.sock === null) return
    this.sock.unsubscribe(g.topic)
    const ids = Array.from(this.topics)
    for (const id of ids) registry.attach(this, id)
    this.throttle(ids, g.hz, g.ageMs, nowMs)
    for (const id of ids) {
      const gh = g.heldOf(id), h = this.heldOf(id)
      if (gh === undefined || h === undefined) continue
      h.lastN = gh.lastN; h.lastStale = gh.lastStale; h.lastBook = gh.lastBook; h.trades = gh.trades // what members were sent
      if (gh.dirty) this.detachedUpdate(id, 0, nowMs)
    }
  }
}
