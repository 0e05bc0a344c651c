// Owns the audit trail: connect, disconnect, auth failure and entitlement denial, one line each, rate-limited per kind.
// Must never log a token, key or hash: callers pass the remote address, the principal id and a bounded reason.

export interface AuditSink { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }

export const AUDIT_KINDS = ['connect', 'disconnect', 'auth_failure', 'entitlement_denied'] as const
export type AuditKind = (typeof AUDIT_KINDS)[number]

/** Lines per second per kind (burst 2×): a flood of bad tokens costs a few lines and a `suppressed` count, not a disk. */
export const AUDIT_LINES_PER_SEC = 20

interface Budget { tokens: number; atMs: number; suppressed: number }

export class AuditLog {
  private readonly budgets = new Map<AuditKind, Budget>()
  constructor(private readonly sink: AuditSink, private readonly perSec = AUDIT_LINES_PER_SEC, private readonly now: () => number = () => performance.now()) {
    for (const k of AUDIT_KINDS) this.budgets.set(k, { tokens: perSec * 2, atMs: this.now(), suppressed: 0 })
  }

  connect(ip: string, principal: string, kind: string): void { this.line('connect', { ip, principal, via: kind }, 'audit: connect') }

  disconnect(ip: string, principal: string, code: number): void { this.line('disconnect', { ip, principal, code }, 'audit: disconnect') }

  authFailure(ip: string, reason: string, where: string): void { this.line('auth_failure', { ip, reason, where }, 'audit: auth failure') }

  /** One line per denied request (not per symbol): the first few symbols and how many. */
  denied(ip: string, principal: string, symbols: readonly string[], where: string): void {
    this.line('entitlement_denied', { ip, principal, where, count: symbols.length, symbols: symbols.slice(0, 5) }, 'audit: entitlement denied')
  }

  private line(kind: AuditKind, fields: Record<string, unknown>, msg: string): void {
    const b = this.budgets.get(kind)!, t = this.now()
    b.tokens = Math.min(this.perSec * 2, b.tokens + (t - b.atMs) * this.perSec / 1000); b.atMs = t
    if (b.tokens < 1) { b.suppressed++; return }
    b.tokens--
    const obj = { audit: kind, ...fields, ...(b.suppressed > 0 ? { suppressed: b.suppressed } : {}) }
    b.suppressed = 0
    if (kind === 'auth_failure' || kind === 'entitlement_denied') this.sink.warn(obj, msg)
    else this.sink.info(obj, msg)
  }
}
