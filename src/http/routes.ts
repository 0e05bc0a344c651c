// Owns the HTTP routes on the fan-out's uWS app: health, readiness, symbols, REST snapshot, 404 (GET and HEAD; /metrics has a listener of its own).
// Must never block or throw out of a handler: every response is ended or guarded by onAborted before an await.
import type * as uWS from 'uWebSockets.js'
import { EVERYTHING } from '../auth/entitlements.js'
import type { HttpAuthorizer } from '../auth/http-auth.js'
import type { LastValueCache } from '../cache/last-value-cache.js'
import { FORMAT_JSON, writeSnapshot } from '../codec/tick-codec.js'
import { JSON_EVENT_MAX_BYTES } from '../codec/json-codec.js'
import { ERR_BAD_SYMBOL, ERR_NOT_ENTITLED, ERR_UNKNOWN_SYMBOL } from '../errors.js'
import { NO_SYMBOL, SYMBOL_PATTERN } from '../model/symbols.js'
import { HttpStats } from '../metrics/http-stats.js'
import { forMethod, getAndHead } from './head-requests.js'
import { secureHeaders } from './security-headers.js'
import { sendBody } from './send-body.js'
import type { SymbolTable } from '../model/symbols.js'

export interface ReadyState { ready: boolean; reason?: string }
export interface MetricsBody { contentType: string; body: string | Uint8Array }

export interface RouteDeps {
  symbols: SymbolTable
  lvc: LastValueCache
  /** readiness (feed logged in, ring fresh...); absent = ready */
  ready?: () => ReadyState
  /** extra routes (the lead's `/` page), registered before the 404 catch-all */
  extraRoutes?: (app: uWS.TemplatedApp) => void
  /** true once shutdown began: /readyz answers 503 */
  isClosing: () => boolean
  /** request counters by route and status class (tickcast_http_requests_total); absent = not counted */
  http?: HttpStats
  /** credentials and entitlements on /v1/* (src/auth); absent = open, every symbol */
  auth?: HttpAuthorizer
  /** a REST request for a symbol the caller is not entitled to (counted and audited by the caller) */
  onDenied?: (ip: string, principal: string, symbol: string) => void
}

/** No authorizer: every caller sees every symbol. */
const OPEN: HttpAuthorizer = { authorize: (_res, _req, _route, then) => then(EVERYTHING, 'anonymous', '') }

const JSON_TYPE = 'application/json'
const snapBuf = Buffer.allocUnsafe(JSON_EVENT_MAX_BYTES)

const JSON_HEADERS = [['Content-Type', JSON_TYPE], ['Cache-Control', 'no-store']] as const
/** Streamed as the peer reads (send-body.ts): a peer that pipelines without reading holds no copy of our answers. */
function sendJson(res: uWS.HttpResponse, status: string, body: string | Uint8Array): void {
  sendBody(res, status, JSON_HEADERS, typeof body === 'string' ? Buffer.from(body) : body)
}

export function registerRoutes(app: uWS.TemplatedApp, deps: RouteDeps): void {
  const { symbols, lvc } = deps
  const http = deps.http ?? new HttpStats() // counted either way: one array increment per request
  let symbolsJson = Buffer.from('[]'), symbolsJsonSize = 0 // symbols only grow: rebuild when the count changes

  getAndHead(app, '/healthz', (res) => { http.count('healthz', 200); secureHeaders(res).writeHeader('Content-Type', 'text/plain').end('ok') })

  getAndHead(app, '/readyz', (res) => {
    const st: ReadyState = deps.isClosing() ? { ready: false, reason: 'shutting_down' } : deps.ready ? deps.ready() : { ready: true }
    http.count('readyz', st.ready ? 200 : 503)
    if (st.ready) sendJson(res, '200 OK', '{"status":"ready"}')
    else sendJson(res, '503 Service Unavailable', JSON.stringify({ status: 'not_ready', reason: st.reason ?? 'not ready' }))
  })

  const auth = deps.auth ?? OPEN
  getAndHead(app, '/v1/symbols', (res, req) => auth.authorize(res, req, '/v1/symbols', (ent) => {
    if (symbols.size !== symbolsJsonSize) { symbolsJson = Buffer.from(JSON.stringify(symbols.name)); symbolsJsonSize = symbols.size }
    http.count('symbols', 200)
    // only the symbols this principal is entitled to (control plane: filtered per request)
    sendJson(res, '200 OK', ent.all ? symbolsJson : JSON.stringify(symbols.name.filter((n) => ent.allows(n))))
  }))

  // The same bytes as the WebSocket JSON snapshot event (writeSnapshot, FORMAT_JSON).
  getAndHead(app, '/v1/snapshot/:symbol', (res, req) => {
    const name = req.getParameter(0) ?? ''
    auth.authorize(res, req, '/v1/snapshot', (ent, principal, ip) => snapshot(res, name, ent, principal, ip))
  })
  function snapshot(res: uWS.HttpResponse, name: string, ent: { allows(s: string): boolean }, principal: string, ip: string): void {
    if (!SYMBOL_PATTERN.test(name)) {
      http.count('snapshot', 400)
      sendJson(res, '400 Bad Request', JSON.stringify({ error: ERR_BAD_SYMBOL, message: `symbols match ${SYMBOL_PATTERN.source}` }))
      return
    }
    const id = symbols.idOf(name)
    // entitlement first: an unentitled caller learns nothing, not even whether the symbol exists
    if (!ent.allows(name)) {
      http.count('snapshot', 403); deps.onDenied?.(ip, principal, name)
      sendJson(res, '403 Forbidden', JSON.stringify({ error: ERR_NOT_ENTITLED, symbol: name })); return
    }
    if (id === NO_SYMBOL) { http.count('snapshot', 404); sendJson(res, '404 Not Found', JSON.stringify({ error: ERR_UNKNOWN_SYMBOL, symbol: name })); return }
    http.count('snapshot', 200)
    // a copy: a peer that reads slowly is sent the rest later, after snapBuf has served other requests
    sendJson(res, '200 OK', Buffer.from(snapBuf.subarray(0, writeSnapshot(FORMAT_JSON, lvc, symbols, id, snapBuf, 0))))
  }

  // no /metrics here: it has a listener of its own (src/http/metrics-listener.ts), so it is a 404 on the client port
  deps.extraRoutes?.(app)

  app.any('/*', (res, req) => { http.count('other', 404); sendJson(forMethod(res, req), '404 Not Found', '{"error":"NOT_FOUND"}') })
}
