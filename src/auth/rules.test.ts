// The pure rules of src/auth: entitlement patterns and role merging, the per-address failure budget, the audit budget.
import { describe, expect, it } from 'vitest'
import { AuditLog } from './audit-log.js'
import { Entitlements, resolveEntitlements } from './entitlements.js'
import { FailureLimiter } from './failure-limiter.js'
import type { Grant } from './principal.js'

const grant = (o: Partial<Grant>): Grant => ({ id: 'p', kind: 'key', symbols: [], roles: [], maxHz: 0, maxSymbols: 0, maxConnections: 0, expMs: Infinity, keyHash: 'h', ...o })

describe('entitlements', () => {
  it('matches exact names, prefixes and *; nothing else', () => {
    const e = new Entitlements(['AAPL', 'MS*'], 0, 0, 0)
    expect(['AAPL', 'MSFT', 'MS', 'AAP', 'AAPLX', 'NVDA'].map((s) => e.allows(s))).toEqual([true, true, true, false, false, false])
    expect(new Entitlements(['*'], 0, 0, 0).allows('ANY')).toBe(true)
    expect(new Entitlements([], 0, 0, 0).allows('AAPL')).toBe(false)
  })

  it('merges roles: patterns add up, a cap is the grant\'s own, else the most generous role\'s (0 = none wins)', () => {
    const roles = new Map([['a', { symbols: ['AAPL'], maxHz: 1, maxSymbols: 10, maxConnections: 2 }], ['b', { symbols: ['MS*'], maxHz: 5, maxSymbols: 0, maxConnections: 3 }]])
    const e = resolveEntitlements(grant({ roles: ['a', 'b', 'missing'], maxConnections: 1 }), roles)
    expect([e.allows('AAPL'), e.allows('MSFT'), e.allows('NVDA')]).toEqual([true, true, false])
    expect([e.maxHz, e.maxSymbols, e.maxConnections]).toEqual([5, 0, 1])
    expect(e.sameAs(resolveEntitlements(grant({ roles: ['b', 'a'], maxConnections: 1 }), roles))).toBe(true)
    expect(e.sameAs(resolveEntitlements(grant({ roles: ['a'], maxConnections: 1 }), roles))).toBe(false)
  })
})

describe('failure limiter', () => {
  it('lets an address fail its burst, then refuses it until it earns attempts back; others are untouched', () => {
    const l = new FailureLimiter({ burst: 3, perSec: 1 })
    for (let i = 0; i < 3; i++) { expect(l.allowed('a', 0)).toBe(true); l.failed('a', 0) }
    expect(l.allowed('a', 0)).toBe(false)
    expect(l.allowed('b', 0)).toBe(true)
    expect(l.allowed('a', 999)).toBe(false)
    expect(l.allowed('a', 1000)).toBe(true)
    expect(l.allowed('a', 10_000)).toBe(true)
    expect(l.size).toBe(0) // fully recovered addresses are forgotten
  })
})

describe('audit log', () => {
  it('writes at most its budget per kind and reports what it suppressed on the next line', () => {
    let now = 0
    const lines: Array<Record<string, unknown>> = []
    const sink = { info: (o: object) => { lines.push(o as Record<string, unknown>) }, warn: (o: object) => { lines.push(o as Record<string, unknown>) } }
    const a = new AuditLog(sink, 2, () => now)
    for (let i = 0; i < 10; i++) a.authFailure('1.2.3.4', 'invalid', 'upgrade')
    a.connect('1.2.3.4', 'alice', 'key')
    expect(lines.filter((l) => l.audit === 'auth_failure')).toHaveLength(4) // burst 2 × 2/s
    expect(lines.filter((l) => l.audit === 'connect')).toHaveLength(1)
    now = 1000
    a.authFailure('1.2.3.4', 'invalid', 'upgrade')
    expect(lines[lines.length - 1]).toMatchObject({ audit: 'auth_failure', suppressed: 6 })
  })
})
