// Owns the Prometheus listener: `GET /metrics` on a port of its own (--metrics-host/--metrics-port, loopback by default).
// Must never serve client routes nor share the clients' listen socket: a scrape flood stays off the clients' port.
//
// Why a listener of its own: on the client port anyone who could open a WebSocket could also pipeline thousands of
// `GET /metrics` (issue 10: 20 such peers stopped every WebSocket for 24 s). Here only whoever reaches the metrics
// address can scrape at all, the body is cached (scrape-cache.ts) and pipelining is bounded like on the client port.
import * as uWS from 'uWebSockets.js'
import type { HttpStats } from '../metrics/http-stats.js'
import { closeListening, listenApp } from './app-host.js'
import { forMethod, getAndHead } from './head-requests.js'
import { guardedRoutes, PipelineGuard } from './pipeline-guard.js'
import { sendBody } from './send-body.js'
import type { MetricsBody } from './routes.js'
import { secureHeaders } from './security-headers.js'

/** Scrapes answered per remote address per loop turn: Prometheus sends one at a time. */
export const METRICS_REQUESTS_PER_TURN = 4

export class MetricsListener {
  private readonly app = uWS.App()
  private socket: uWS.us_listen_socket | null = null

  /** `scrape` is the (cached) exposition; `http` counts requests under route `metrics` / `other`. */
  constructor(scrape: () => Promise<MetricsBody>, http: HttpStats) {
    const app = guardedRoutes(this.app, new PipelineGuard(http, METRICS_REQUESTS_PER_TURN))
    let lastText = '', lastBytes = Buffer.alloc(0) // the cached exposition, as bytes once per exposition
    const bytes = (b: string | Uint8Array): Uint8Array => typeof b !== 'string' ? b : b === lastText ? lastBytes : (lastBytes = Buffer.from(lastText = b))
    getAndHead(app, '/metrics', (res) => {
      const state = { aborted: false }
      res.onAborted(() => { state.aborted = true }) // before the await: uWS requires it for deferred responses
      scrape().then(
        (m) => { http.count('metrics', 200); if (!state.aborted) res.cork(() => { sendBody(res, '200 OK', [['Content-Type', m.contentType]], bytes(m.body)) }) },
        () => { http.count('metrics', 500); if (!state.aborted) res.cork(() => { secureHeaders(res.writeStatus('500 Internal Server Error')).end('metrics failed') }) },
      )
    })
    app.any('/*', (res, req) => { http.count('other', 404); secureHeaders(forMethod(res, req).writeStatus('404 Not Found')).writeHeader('Content-Type', 'application/json').end('{"error":"NOT_FOUND"}') })
  }

  /** Listens on host:port (0 = any free port) and resolves with the port. */
  async listen(host: string, port: number): Promise<number> {
    const l = await listenApp(this.app, host, port)
    this.socket = l.socket
    return l.port
  }

  /** Stops listening and cuts open scrape connections. Idempotent. */
  close(): void {
    if (this.socket !== null) { closeListening(this.socket); this.socket = null }
    this.app.close()
  }
}
