// Owns one WebSocket connection's authentication state: who it is, what it may see, its deadline and expiry.
// Must never hold the credential itself: only the verified grant and its resolved entitlements.
import { Entitlements } from './entitlements.js'
import type { Grant } from './principal.js'

const VERIFYING = 1, WARNED = 2, ACQUIRED = 4, CLOSED = 8

/** Nothing is entitled until authenticated. */
export const NOTHING = new Entitlements([], 0, 0, 0)

export class AuthSession {
  /** null until authenticated */
  grant: Grant | null = null
  ent: Entitlements = NOTHING
  /** performance.now() deadline for the first op:auth; Infinity once authenticated */
  deadlineMs: number
  // One field for the four flags below (one per connection: 24 bytes fewer each, issue 12's idle memory).
  private flags = 0
  constructor(readonly ip: string, deadlineMs: number) { this.deadlineMs = deadlineMs }
  /** an op:auth is being verified: nothing else is accepted meanwhile */
  get verifying(): boolean { return (this.flags & VERIFYING) !== 0 }
  set verifying(v: boolean) { this.flags = v ? this.flags | VERIFYING : this.flags & ~VERIFYING }
  /** auth_expiring sent for the current token */
  get warned(): boolean { return (this.flags & WARNED) !== 0 }
  set warned(v: boolean) { this.flags = v ? this.flags | WARNED : this.flags & ~WARNED }
  /** counted against the principal's connection cap */
  get acquired(): boolean { return (this.flags & ACQUIRED) !== 0 }
  set acquired(v: boolean) { this.flags = v ? this.flags | ACQUIRED : this.flags & ~ACQUIRED }
  get closed(): boolean { return (this.flags & CLOSED) !== 0 }
  set closed(v: boolean) { this.flags = v ? this.flags | CLOSED : this.flags & ~CLOSED }
  get ready(): boolean { return this.grant !== null }
  get principal(): string { return this.grant?.id ?? '-' }
}
