// Owns authentication on the WebSocket: the upgrade's credential, in-band op:auth within a deadline, expiry warnings,
// closes (4401/4402/4403), and applying reloaded entitlements to live connections. Must never log a credential, nor
// run per delivered message: its timer visits only connections with a deadline or an expiry, every 250 ms.
import type * as uWS from 'uWebSockets.js'
import { secureHeaders } from '../http/security-headers.js'
import { CLOSE_FORBIDDEN, CLOSE_TOKEN_EXPIRED, CLOSE_UNAUTHENTICATED, ERR_UNAUTHORIZED } from '../errors.js'
import type { AuditLog } from './audit-log.js'
import type { Authenticator } from './authenticator.js'
import type { Entitlements } from './entitlements.js'
import type { AuthFailureReason, Grant } from './principal.js'
import { AuthSession } from './session.js'

/** What ws-auth needs of a connection (the fan-out's Connection implements it). */
export interface AuthedConnection {
  readonly session: AuthSession
  sendText(text: string): void
  /** ends the socket now with a close code and a short reason */
  endWith(code: number, reason: string): void
  /** the principal's entitlements changed: drop what is no longer allowed */
  applyEntitlements(ent: Entitlements): void
}

export const AUTH_TICK_MS = 250

export function authenticatedReply(id: string | number | undefined, g: Grant): string {
  return JSON.stringify({ type: 'authenticated', id, principal: g.id, expiresAt: Number.isFinite(g.expMs) ? g.expMs : null })
}

export class WsAuth {
  private readonly ready = new Set<AuthedConnection>()
  private readonly timed = new Set<AuthedConnection>()
  private timer: NodeJS.Timeout | null = null

  constructor(readonly authn: Authenticator, readonly audit: AuditLog) {
    this.tick = this.tick.bind(this)
    authn.onChange(() => this.reapply())
  }

  start(): void {
    this.authn.start()
    if (this.timer === null) { this.timer = setInterval(this.tick, AUTH_TICK_MS); this.timer.unref() }
  }

  stop(): void { this.authn.stop(); if (this.timer !== null) { clearInterval(this.timer); this.timer = null } }

  /**
   * The upgrade: a Bearer header (or ?token= when enabled) is verified before the socket opens (401/429 in HTTP on
   * failure); without one the socket opens unauthenticated and must send op:auth within the deadline, unless
   * anonymous clients are allowed. `accept` makes the user data and upgrades (maybe later, corked).
   */
  upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, accept: (s: AuthSession) => void,
    /** the caller's copy of the address, so the session shares it (one string per connection fewer) */
    ip = Buffer.from(res.getRemoteAddressAsText()).toString()): void {
    const h = req.getHeader('authorization')
    let token = h.length > 7 && h.slice(0, 7).toLowerCase() === 'bearer ' ? h.slice(7).trim() : ''
    if (token === '' && this.authn.o.queryToken) token = req.getQuery('token') ?? ''
    const s = new AuthSession(ip, performance.now() + this.authn.o.authDeadlineMs)
    if (token === '') {
      const anon = this.authn.anonymous()
      if (anon !== null) { s.grant = anon; s.deadlineMs = Infinity }
      accept(s)
      return
    }
    if (!this.authn.limiter.allowed(ip, performance.now())) {
      this.failed(ip, 'rate_limited', 'upgrade')
      secureHeaders(res.writeStatus('429 Too Many Requests')).writeHeader('Retry-After', '1').end('{"error":"UNAUTHORIZED","reason":"rate_limited"}')
      return
    }
    let aborted = false
    res.onAborted(() => { aborted = true })
    void this.authn.authenticate(token).then((r) => {
      if (aborted) return
      if (!r.ok) {
        this.authn.limiter.failed(ip, performance.now()); this.audit.authFailure(ip, r.reason, 'upgrade')
        res.cork(() => { secureHeaders(res.writeStatus('401 Unauthorized')).writeHeader('WWW-Authenticate', 'Bearer').end(`{"error":"UNAUTHORIZED","reason":"${r.reason}"}`) })
        return
      }
      s.grant = r.grant; s.deadlineMs = Infinity
      res.cork(() => accept(s))
    })
  }

  /** The socket opened: an authenticated session starts counting; a pending one waits for op:auth. */
  opened(c: AuthedConnection): void {
    if (c.session.ready) this.admit(c, undefined)
    else this.timed.add(c)
  }

  /** Any control message while unauthenticated, or op:auth at any time. Returns nothing; replies or closes itself. */
  control(c: AuthedConnection, isAuth: boolean, token: string, id: string | number | undefined): void {
    const s = c.session
    if (s.verifying && !s.ready) { c.endWith(CLOSE_UNAUTHENTICATED, 'wait for authenticated'); return }
    if (s.verifying) { this.rejected(c, null, id); return } // one refresh at a time
    if (!isAuth) { this.failed(s.ip, 'missing', 'first message'); c.endWith(CLOSE_UNAUTHENTICATED, 'authenticate first'); return }
    if (!this.authn.limiter.allowed(s.ip, performance.now())) { this.rejected(c, 'rate_limited', id); return }
    s.verifying = true
    void this.authn.authenticate(token).then((r) => {
      s.verifying = false
      if (s.closed) return
      if (!r.ok) { this.authn.limiter.failed(s.ip, performance.now()); this.audit.authFailure(s.ip, r.reason, 'op:auth'); this.rejected(c, null, id); return }
      if (!s.ready) { s.grant = r.grant; this.timed.delete(c); this.admit(c, id); return }
      // a refresh: same principal, new expiry and maybe new entitlements
      if (r.grant.id !== s.grant!.id) { this.failed(s.ip, 'claims', 'refresh'); this.rejected(c, null, id); return }
      s.grant = r.grant; s.warned = false
      if (Number.isFinite(r.grant.expMs)) this.timed.add(c); else this.timed.delete(c)
      this.refresh(c, id)
    })
  }

  closed(c: AuthedConnection, code: number): void {
    const s = c.session
    s.closed = true
    this.timed.delete(c); this.ready.delete(c)
    if (s.acquired) { this.authn.release(s.grant!); s.acquired = false; this.audit.disconnect(s.ip, s.principal, code) }
  }

  /** A session now has a grant: entitlements, connection cap, audit, the `authenticated` reply. */
  private admit(c: AuthedConnection, id: string | number | undefined): void {
    const s = c.session, g = s.grant!
    const ent = this.authn.entitlementsOf(g)
    if (ent === null) { this.failed(s.ip, 'revoked', 'admit'); c.endWith(CLOSE_FORBIDDEN, 'revoked'); return }
    if (!this.authn.acquire(g, ent)) { this.failed(s.ip, 'connection_cap', 'admit'); c.endWith(CLOSE_FORBIDDEN, 'connection cap'); return }
    s.acquired = true; s.ent = ent; s.deadlineMs = Infinity
    c.applyEntitlements(ent)
    this.ready.add(c)
    if (Number.isFinite(g.expMs)) this.timed.add(c)
    this.audit.connect(s.ip, g.id, g.kind)
    if (g.kind !== 'anonymous' || id !== undefined) c.sendText(authenticatedReply(id, g))
  }

  private refresh(c: AuthedConnection, id: string | number | undefined): void {
    const s = c.session, ent = this.authn.entitlementsOf(s.grant!)
    if (ent === null) { c.endWith(CLOSE_FORBIDDEN, 'revoked'); return }
    if (!ent.sameAs(s.ent)) { s.ent = ent; c.applyEntitlements(ent) }
    c.sendText(authenticatedReply(id, s.grant!))
  }

  /** A failed op:auth: before authentication the connection is closed; after, the old token stays until its exp. */
  private rejected(c: AuthedConnection, reason: AuthFailureReason | null, id: string | number | undefined): void {
    if (reason !== null) this.failed(c.session.ip, reason, 'op:auth')
    if (!c.session.ready) { c.endWith(CLOSE_UNAUTHENTICATED, 'unauthorized'); return }
    c.sendText(JSON.stringify({ type: 'error', code: ERR_UNAUTHORIZED, id, message: 'token refused; the current one stays valid until it expires' }))
  }

  private failed(ip: string, reason: AuthFailureReason, where: string): void {
    this.authn.fail(reason)
    this.audit.authFailure(ip, reason, where)
  }

  /** Every AUTH_TICK_MS: first-message deadlines, expiry warnings, expiries. */
  private tick(): void {
    const now = performance.now(), wall = Date.now(), warnMs = this.authn.o.expiryWarnSec * 1000
    for (const c of this.timed) {
      const s = c.session
      if (!s.ready) {
        if (now >= s.deadlineMs && !s.verifying) { this.failed(s.ip, 'deadline', 'first message'); c.endWith(CLOSE_UNAUTHENTICATED, 'auth deadline') }
        continue
      }
      const exp = s.grant!.expMs
      if (wall >= exp) { this.failed(s.ip, 'expired', 'live'); c.endWith(CLOSE_TOKEN_EXPIRED, 'token expired'); continue }
      if (!s.warned && wall >= exp - warnMs) { s.warned = true; c.sendText(JSON.stringify({ type: 'auth_expiring', expiresAt: exp, time: wall })) }
    }
  }

  /** A keys or roles file changed: every live connection re-resolves its grant within this turn. */
  private reapply(): void {
    for (const c of Array.from(this.ready)) {
      const s = c.session
      const ent = this.authn.entitlementsOf(s.grant!)
      if (ent === null) { this.audit.authFailure(s.ip, 'revoked', 'reload'); this.authn.fail('revoked'); c.endWith(CLOSE_FORBIDDEN, 'revoked'); continue }
      if (!ent.sameAs(s.ent)) { s.ent = ent; c.applyEntitlements(ent) }
    }
  }
}
