// Owns the bound on pipelined HTTP requests: how many one remote address may have answered in one event-loop turn.
// Must never delay an honest request nor buffer for a peer over the bound: the connection is closed, its queue dropped.
//
// Why: uWS parses every request of a received chunk in one callback and buffers each answer for a peer that never
// reads. 5,000 pipelined `GET /metrics` in one connection held the loop for seconds and every WebSocket with it
// (README, Security). Closing the socket inside a handler makes uWS drop the rest of the chunk unparsed, so the cost of
// an attack is bounded by this many answers per connection. uWS gives no per-socket identity to HTTP handlers, so the
// count is per remote address: honest clients behind one address (a proxy, a NAT) share the budget of one turn.
import type * as uWS from 'uWebSockets.js'

/** Answers per remote address per loop turn; browsers pipeline at most a handful, Prometheus one. */
export const MAX_REQUESTS_PER_TURN = 32

export class PipelineGuard {
  private readonly counts = new Map<string, number>()
  private resetScheduled = false
  /** `stats.pipeliningRefused` counts refused requests (tickcast_http_pipelining_refused_total) */
  constructor(private readonly stats: { pipeliningRefused: number }, private readonly maxPerTurn = MAX_REQUESTS_PER_TURN) {
    this.reset = this.reset.bind(this)
  }

  /** false: this request is over the bound, and its connection has been closed (nothing more may touch `res`). */
  admit(res: uWS.HttpResponse): boolean {
    const ip = Buffer.from(res.getRemoteAddressAsText()).toString()
    const n = (this.counts.get(ip) ?? 0) + 1
    this.counts.set(ip, n)
    if (!this.resetScheduled) { this.resetScheduled = true; setImmediate(this.reset) }
    if (n <= this.maxPerTurn) return true
    this.stats.pipeliningRefused++
    res.close()
    return false
  }

  private reset(): void { this.counts.clear(); this.resetScheduled = false }
}

type Handler = (res: uWS.HttpResponse, req: uWS.HttpRequest) => void | Promise<void>
const METHODS = ['get', 'post', 'put', 'del', 'patch', 'options', 'head', 'any'] as const

/** The same app with every HTTP route registered through it admitted by `guard` first (WebSocket routes untouched). */
export function guardedRoutes(app: uWS.TemplatedApp, guard: PipelineGuard): uWS.TemplatedApp {
  return new Proxy(app, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      if (!(METHODS as readonly (string | symbol)[]).includes(prop)) return (value as (...a: unknown[]) => unknown).bind(target)
      return (pattern: string, handler: Handler) => {
        (value as (p: string, h: Handler) => void).call(target, pattern, (res, req) => { if (guard.admit(res)) return handler(res, req) })
        return receiver as uWS.TemplatedApp
      }
    },
  })
}
