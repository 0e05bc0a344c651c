// Owns one WebSocket connection's authentication state: who it is, what it may see, its deadline and expiry.
// Must never hold the credential itself: only the verified grant and its resolved entitlements.
import { Entitlements } from './entitlements.js'
import type { Grant } from './principal.js'

/** Nothing is entitled until authenticated. */
export const NOTHING = new Entitlements([], 0, 0, 0)

export class AuthSession {
  /** null until authenticated */
  grant: Grant | null = null
  ent: Entitlements = NOTHING
  /** an op:auth is being verified: nothing else is accepted meanwhile */
  verifying = false
  /** performance.now() deadline for the first op:auth; Infinity once authenticated */
  deadlineMs: number
  /** auth_expiring sent for the current token */
  warned = false
  /** counted against the principal's connection cap */
  acquired = false
  closed = false
  constructor(readonly ip: string, deadlineMs: number) { this.deadlineMs = deadlineMs }
  get ready(): boolean { return this.grant !== null }
  get principal(): string { return this.grant?.id ?? '-' }
}
