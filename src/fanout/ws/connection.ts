// Owns one WebSocket connection's control protocol: rate limit, subscribe/unsubscribe/ping, acks and errors, and
// the accounting of its close. Must never write data frames itself: snapshots and held symbols are ConnectionOutput's
// (shared throttles GroupedOutput's).
import { FORMAT_NAMES } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import type { Entitlements } from '../../auth/entitlements.js'
import { ANONYMOUS } from '../../auth/principal.js'
import { AuthSession } from '../../auth/session.js'
import type { AuthedConnection } from '../../auth/ws-auth.js'
import { CLOSE_FORBIDDEN, CLOSE_RATE_LIMITED, CLOSE_TOKEN_EXPIRED, CLOSE_UNAUTHENTICATED, ERR_NOT_ENTITLED, ERR_RATE_LIMITED } from '../../errors.js'
import { MAX_ERRORS_PER_REQUEST, OP_AUTH, OP_PING, OP_SUBSCRIBE, ackReply, errorReply, parseControl, pongReply } from '../../subscriptions/protocol.js'
import type { CloseReason, ControlErrorCode } from '../ws-stats.js'
import { GroupedOutput } from './grouped-output.js'
import { planResume, resumedIds } from './connection-resume.js'
import { SNAPSHOT_SYMBOLS_PER_SEC, SnapshotBudget } from './snapshot-budget.js'
import type { ConnectionHost } from './connection-host.js'
import type { PacedConnection } from './control-pacer.js'
import { LADDER_CONFLATING, effectiveMaxAgeMs, effectiveMaxHz } from './writer.js'

export type { ConnectionHost, ConnectionLimits, ConnectionLog, ConnectionSocket } from './connection-host.js'

// uWS reports its own closes only as reason strings (reliability.md §B): map them to a bounded set.
export function classifyClose(code: number, message: string): CloseReason {
  if (code === 1000 || code === 1001 || code === 1005) return 'normal'
  if (message.includes('too big')) return 'too_big'
  if (message.includes('inactivity') || message.includes('timed out')) return 'idle'
  if (message.includes('invalid') || message.includes('Invalid')) return 'protocol'
  return 'abnormal'
}

/** A session that needs no credential (unit tests; servers without a WsAuth). */
function openSession(): AuthSession { const s = new AuthSession('-', Infinity); s.grant = ANONYMOUS; return s }

/**
 * A connection's control state, made at its first message: a bucket that starts full then is the bucket it would
 * have had since the open (refills are capped at the burst), so an idle connection carries none of it.
 */
class ControlState {
  /** made at the first subscribe that asks for snapshots: 40 bytes (and a boxed double) a connection that never asks
   *  does not need (heap snapshot, 2,000 connections subscribed with snapshot:false, issue 12) */
  snapshots: SnapshotBudget | null = null
  /** messages waiting for a turn with control budget (control-pacer.ts), copied: uWS reuses the ArrayBuffer */
  pending: Array<{ data: ArrayBuffer; isBinary: boolean }> | null = null
  constructor(public tokens: number, public lastRefillMs: number) {}
}

/** One per socket; uWS copies userData's own properties, so it rides as `{ c }`. */
export class Connection extends GroupedOutput implements AuthedConnection, PacedConnection {
  private ctl: ControlState | null = null

  constructor(format: WireFormat, host: ConnectionHost, _nowMs: number, readonly session: AuthSession = openSession()) {
    super(format, host)
  }

  onMessage(data: ArrayBuffer, isBinary: boolean, nowMs: number): void {
    const host = this.host, lim = host.limits
    host.stats.controlMessages++
    const ctl = this.ctl ??= new ControlState(lim.controlBurst, nowMs)
    // token bucket; the debt may go negative so a client that keeps pushing while limited gets closed
    ctl.tokens = Math.min(lim.controlBurst, ctl.tokens + (nowMs - ctl.lastRefillMs) * lim.maxControlMessagesPerSec / 1000) - 1
    ctl.lastRefillMs = nowMs
    if (ctl.tokens < 0) {
      if (ctl.tokens <= -lim.controlBurst) {
        host.log.warn({ format: FORMAT_NAMES[this.format] }, 'client closed: control messages over the rate limit')
        this.end('rate_limited', CLOSE_RATE_LIMITED, 'rate limited')
        return
      }
      this.sendError(ERR_RATE_LIMITED, `at most ${lim.maxControlMessagesPerSec} control messages per second`, undefined, undefined)
      return
    }
    // over this turn's control budget (or behind others already waiting): the whole message waits, in order; the
    // rate limit above bounds how many can wait per connection
    const pacer = host.pacer
    if (pacer !== undefined && (ctl.pending !== null || !pacer.mayRun())) {
      if (ctl.pending === null) { ctl.pending = []; pacer.defer(this) }
      ctl.pending.push({ data: data.slice(0), isBinary })
      return
    }
    this.handle(data, isBinary, nowMs)
  }

  /** control-pacer.ts: a later turn runs the oldest waiting message. */
  runPending(nowMs: number): boolean {
    const ctl = this.ctl, q = ctl?.pending ?? null
    if (ctl === null || q === null) return false
    const m = q.shift()
    if (m !== undefined && this.sock !== null) this.handle(m.data, m.isBinary, nowMs)
    if (q.length > 0 && this.sock !== null) return true
    ctl.pending = null
    return false
  }

  private handle(data: ArrayBuffer, isBinary: boolean, nowMs: number): void {
    const host = this.host, lim = host.limits
    const req = host.req, parsed = parseControl(data, isBinary, lim.maxEntriesPerRequest, req)
    // nothing but op:auth before authentication (ws-auth closes 4401); op:auth later is an in-band refresh
    if (host.auth !== undefined && (!this.session.ready || (parsed && req.op === OP_AUTH))) { host.auth.control(this, parsed && req.op === OP_AUTH, req.token, req.id); return }
    if (!parsed) { this.sendError(req.errorCode, req.errorMessage, req.id, undefined); return }
    if (req.op === OP_PING) { this.sendText(pongReply(req.id, Date.now())); return }
    const out = host.result
    out.reset()
    const subscribe = req.op === OP_SUBSCRIBE
    // refused whole, before it changes anything: a subscription without its snapshot would have no baseline
    const wait = subscribe && req.snapshot ? (this.ctl!.snapshots ??= new SnapshotBudget()).waitMs(host.symbols.size, nowMs) : 0
    if (wait > 0) { this.sendError(ERR_RATE_LIMITED, `snapshot budget: ${SNAPSHOT_SYMBOLS_PER_SEC} symbols per second; retry in ${wait} ms`, req.id, undefined); return }
    const held = this.topics.size
    if (!subscribe && this.group !== null) this.leaveGroup(nowMs, true) // what stays keeps its rate, on its own
    const tier = this.session.ent.maxHz, rated = req.maxHz > 0 || req.maxAgeMs > 0 || tier > 0
    // every topic of a first `*` with a rate is throttled below (grouped or not): it need not join its topics first
    if (subscribe && rated && held === 0 && req.since === null && this.gate === null && this.maxTopics === 0 && req.symbols.includes('*')) this.subscribeOutsideUws(req.symbols, out)
    else if (subscribe) host.hub.subscribe(this, req.symbols, out)
    else host.hub.unsubscribe(this, req.symbols, out)
    for (let i = 0; i < out.errorCodes.length; i++) this.sendError(out.errorCodes[i], out.errorMessages[i], req.id, out.errorSymbols[i])
    if (subscribe && out.errorCodes.includes(ERR_NOT_ENTITLED)) this.denied(out.errorSymbols.filter((_s, i) => out.errorCodes[i] === ERR_NOT_ENTITLED), 'subscribe')
    if (!subscribe) {
      host.pacer?.spend(held - this.topics.size + 1) // the topics it removed (a pattern may remove many)
      this.forgetUnsubscribed(); this.sendText(ackReply('unsubscribed', req.id, out.symbols, out.patterns)); return
    }
    // a conflating connection gets nothing until it drains: what this request added waits with the rest
    if (this.ladder.mode === LADDER_CONFLATING) for (const id of out.added) this.hold(id)
    let hz = 0, age = 0
    // the principal's maxHz tier caps what the client asks for (and applies when it asks for nothing)
    const wantHz = tier > 0 ? (req.maxHz > 0 ? Math.min(req.maxHz, tier) : tier) : req.maxHz
    // Throttling applies to the symbols this request newly subscribes; with none, the ack reports none (a
    // symbol already held keeps its rate, so claiming the new one would be false).
    // A first `*` of a connection that sees every symbol joins the throttle group of its rate (throttle-groups.ts)
    // once its snapshots are written; until then (and if it may not) its symbols are throttled as usual, below.
    let grouped = false
    if ((wantHz > 0 || req.maxAgeMs > 0) && out.added.length > 0) {
      hz = effectiveMaxHz(wantHz); age = effectiveMaxAgeMs(hz, req.maxAgeMs)
      grouped = req.since === null && this.gate === null && this.maxTopics === 0 && out.added.length === this.topics.size && this.patterns.includes('*') && this.mayJoinGroup()
      if (!grouped) this.throttle(out.added, hz, age, nowMs)
    }
    // resume (`since`): the symbols whose missed events this node's ring still holds are replayed instead of snapped
    const replay = host.replay
    const recovered = req.since !== null && replay !== null && this.ladder.mode !== LADDER_CONFLATING
      ? planResume(replay, host.symbols, req.since, out, (id) => req.epoch !== replay.epoch || this.isHeld(id)) : undefined
    this.sendText(ackReply('subscribed', req.id, out.symbols, out.patterns, hz, age, recovered, replay?.epoch, this.host.node))
    if (recovered !== undefined && replay !== null) replay.write(this.format, resumedIds(), (f, bin) => this.send(f, bin))
    if (req.snapshot) { this.ctl!.snapshots!.spend(out.added.length + out.listed.length); this.snapshot(out, nowMs) }
    if (grouped) { if (this.mayJoinGroup()) this.joinGroup(hz, age); else this.throttle(out.added, hz, age, nowMs) }
    host.pacer?.spend(out.added.length + (req.snapshot ? out.added.length + out.listed.length : 0) + 1)
  }


  private sendError(code: string, message: string, id: string | number | undefined, symbol: string | undefined): void {
    const counts = this.host.stats.controlErrors
    if (code in counts) counts[code as ControlErrorCode]++
    this.sendText(errorReply(code, message, id, symbol))
  }

  /** A pattern covered a symbol learned later: a principal with a maxHz tier gets it throttled like the rest. */
  override topicLearned(id: number): void {
    if (this.groupLearned(id)) return
    const tier = this.session.ent.maxHz
    if (tier > 0) { const hz = effectiveMaxHz(tier); this.throttle([id], hz, effectiveMaxAgeMs(hz, 0), performance.now()) }
  }

  /** ws-auth: the principal's entitlements are (now) `ent`; symbols no longer allowed leave at once, each signalled. */
  applyEntitlements(ent: Entitlements): void {
    if (this.group !== null && (!ent.all || ent.maxSymbols > 0)) this.leaveGroup(performance.now(), true) // members see every symbol
    this.gate = ent.all ? null : ent; this.maxTopics = ent.maxSymbols
    // everything allowed: nothing to take away (and restrict would make the topic set of a connection that has none)
    if (this.gate === null) return
    const out = this.host.result
    out.reset()
    this.host.hub.restrict(this, out)
    if (out.added.length === 0) return
    this.forgetUnsubscribed()
    const names = out.added.map((id) => this.host.symbols.name[id])
    this.denied(names, 'withdrawn')
    for (const name of names.slice(0, MAX_ERRORS_PER_REQUEST)) this.sendError(ERR_NOT_ENTITLED, 'entitlement withdrawn: unsubscribed', undefined, name)
  }

  private denied(names: readonly string[], where: string): void {
    const auth = this.host.auth
    if (auth === undefined) return
    auth.authn.denied(names.length)
    auth.audit.denied(this.session.ip, this.session.principal, names, where)
  }

  endWith(code: number, reason: string): void {
    this.end(code === CLOSE_TOKEN_EXPIRED ? 'token_expired' : code === CLOSE_FORBIDDEN ? 'forbidden' : code === CLOSE_UNAUTHENTICATED ? 'unauthenticated' : 'abnormal', code, reason)
  }

  /** The close handler (uWS calls it for every close, ours included): count the reason, give everything back. */
  closed(code: number, message: string): void {
    const stats = this.host.stats
    stats.closes[this.closeReason ?? classifyClose(code, message)]++
    stats.connections--
    this.host.auth?.closed(this, code)
    this.releaseOutput()
  }
}
