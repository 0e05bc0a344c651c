// Owns a crowd of measuring WebSocket clients: connect them with bounded concurrency, what they subscribe, failures by reason.
// Must never hang on a deployment that refuses: each connect has a timeout and counts as a failure with its reason.
import type { Meter, Share, Target } from './scenario.js'
import { StreamClient, StreamStats } from './stream-client.js'
import type { StreamClientOptions } from './stream-client.js'

/** The deployment's symbols (GET /v1/symbols, with the credential); the first `limit` are the busiest in the simulator. */
export async function fetchSymbols(t: Target): Promise<string[]> {
  const r = await fetch(`${t.http}/v1/symbols`, { headers: t.credential ? { authorization: `Bearer ${t.credential}` } : {}, signal: AbortSignal.timeout(10_000) })
  if (r.status !== 200) throw new Error(`GET ${t.http}/v1/symbols: HTTP ${r.status} (give --token / --api-key if the deployment has authentication)`)
  const names = await r.json() as string[]
  if (!Array.isArray(names) || names.length === 0) throw new Error(`GET ${t.http}/v1/symbols: no symbols yet (is a feed connected?)`)
  return names
}

/** `per` distinct symbols for client `seed`, drawn (LCG, deterministic) from the first `pool` names. */
export function pickSymbols(names: string[], per: number, seed: number, pool = names.length): string[] {
  const from = names.slice(0, Math.max(1, Math.min(pool, names.length)))
  if (per >= from.length) return [...from]
  let x = (seed * 2654435761 + 1) >>> 0
  const chosen = new Set<string>()
  while (chosen.size < per) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; chosen.add(from[x % from.length]) }
  return Array.from(chosen)
}

/** Global index of this share's k-th client, so picks do not depend on --procs. */
export function globalIndex(k: number, share: Share): number { return share.index + k * share.count }

/** Short reason of a refused connect: "HTTP 429", "ECONNREFUSED", "timeout", "auth refused". */
export function reasonOf(e: unknown): string {
  const msg = (e as Error)?.message ?? String(e)
  const http = /upgrade refused: HTTP\/1\.1 (\d{3})/.exec(msg)
  if (http) return `http_${http[1]}`
  const code = (e as NodeJS.ErrnoException)?.code
  if (code) return code.toLowerCase()
  if (/timeout/.test(msg)) return 'timeout'
  return msg.replace(/[^a-z0-9]+/gi, '_').toLowerCase().slice(0, 40)
}

export class Crowd {
  readonly stats = new StreamStats()
  readonly clients: StreamClient[] = []
  readonly failures: Record<string, number> = {}
  constructor(private readonly target: Target, private readonly meter: Meter, private readonly opts: StreamClientOptions) {}

  /** Connects `n` more clients, `concurrency` at a time; `subscribe(i)` gives client i's symbols (null: none). */
  async add(n: number, subscribe: (i: number) => string[] | null, signal: AbortSignal, concurrency = 100, onConnected?: (c: StreamClient, i: number) => void): Promise<void> {
    const first = this.clients.length
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < n && !signal.aborted) {
        const i = first + next++
        const c = new StreamClient(this.stats, this.meter, this.opts)
        try {
          await c.connect(this.target)
        } catch (e) {
          const r = reasonOf(e)
          this.failures[r] = (this.failures[r] ?? 0) + 1
          this.meter.errors++
          c.ws.destroy()
          continue
        }
        this.clients.push(c)
        this.meter.connections++
        const syms = subscribe(i)
        if (syms !== null && syms.length > 0) c.subscribe(syms)
        onConnected?.(c, i)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
  }

  /** Clients still open (the server did not close them). */
  open(): number { return this.clients.filter((c) => c.ws.closeCode === 0).length }

  closeAll(): void { for (const c of this.clients) c.close() }

  failureCounts(): Record<string, number> {
    const out: Record<string, number> = {}
    let total = 0
    for (const [k, v] of Object.entries(this.failures)) { out[`failed_${k}`] = v; total += v }
    out.failed = total
    return out
  }
}
