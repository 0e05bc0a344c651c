// Owns admission of new WebSocket connections: a global cap, a per-IP cap and a per-IP upgrade rate (token bucket).
// Must never allocate per admitted message or keep an IP after it has no connection and a full bucket (bounded map).
import { readFileSync } from 'node:fs'

export interface AdmissionLimits {
  /** open WebSocket connections on this app (per thread with --workers) */
  maxConnections: number
  /** open connections from one remote address; 0 = no per-IP cap */
  maxPerIp: number
  /** sustained upgrades per second from one address (bucket of maxPerIp, at least 1); 0 = unlimited */
  upgradesPerIpPerSec: number
}

export type Refusal = 'capacity' | 'ip_limit' | 'ip_rate'
/** HTTP status per refusal: the server is full (retry elsewhere/later) vs this client asks too much. */
export const REFUSAL_STATUS: Readonly<Record<Refusal, string>> = { capacity: '503 Service Unavailable', ip_limit: '429 Too Many Requests', ip_rate: '429 Too Many Requests' }

interface PerIp { open: number; tokens: number; lastMs: number }
const MAX_TRACKED_IPS = 100_000

export class ConnectionGate {
  private open = 0
  private readonly ips = new Map<string, PerIp>()
  private readonly burst: number

  constructor(readonly limits: AdmissionLimits) {
    this.burst = Math.max(1, limits.maxPerIp || limits.upgradesPerIpPerSec)
  }

  /** null = admitted (the caller must later call opened/closed), else why not. Consumes one upgrade token. */
  admit(ip: string, nowMs: number): Refusal | null {
    if (this.open >= this.limits.maxConnections) return 'capacity'
    let e = this.ips.get(ip)
    if (e === undefined) {
      if (this.ips.size >= MAX_TRACKED_IPS) this.prune(nowMs)
      e = { open: 0, tokens: this.burst, lastMs: nowMs }
      this.ips.set(ip, e)
    }
    if (this.limits.maxPerIp > 0 && e.open >= this.limits.maxPerIp) return 'ip_limit'
    if (this.limits.upgradesPerIpPerSec > 0) {
      e.tokens = Math.min(this.burst, e.tokens + (nowMs - e.lastMs) * this.limits.upgradesPerIpPerSec / 1000)
      e.lastMs = nowMs
      if (e.tokens < 1) return 'ip_rate'
      e.tokens -= 1
    }
    return null
  }

  opened(ip: string): void {
    this.open++
    const e = this.ips.get(ip)
    if (e !== undefined) e.open++
    else this.ips.set(ip, { open: 1, tokens: this.burst, lastMs: performance.now() })
  }

  closed(ip: string): void {
    this.open--
    const e = this.ips.get(ip)
    if (e !== undefined) e.open--
  }

  get connections(): number { return this.open }

  /** Forgets addresses with no open connection (their bucket refills to full anyway after burst/rate seconds). */
  private prune(nowMs: number): void {
    const refillMs = this.limits.upgradesPerIpPerSec > 0 ? 1000 * this.burst / this.limits.upgradesPerIpPerSec : 0
    for (const [ip, e] of this.ips) if (e.open === 0 && nowMs - e.lastMs >= refillMs) this.ips.delete(ip)
    if (this.ips.size >= MAX_TRACKED_IPS) for (const [ip, e] of this.ips) if (e.open === 0) this.ips.delete(ip)
  }
}

/** The process's soft descriptor limit (Linux /proc), or null where unknown. */
export function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return m === null || m[1] === 'unlimited' ? null : Number(m[1])
  } catch { return null }
}

/** Descriptors kept for everything that is not a client (feeds, MQTT, listeners, files, /healthz probes). */
export const RESERVED_FDS = 128

/**
 * The global cap actually used: the configured one, lowered below the descriptor limit so that accept() never
 * fails in a loop (measured: 100 % CPU and /healthz timing out at the limit).
 */
export function effectiveMaxConnections(configured: number, fdLimit: number | null): number {
  return fdLimit === null ? configured : Math.max(1, Math.min(configured, fdLimit - RESERVED_FDS))
}
