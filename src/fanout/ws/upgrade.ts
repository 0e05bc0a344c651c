// Owns the WebSocket upgrade checks: protocol version, wire format, Origin allow-list, each refusal answered in HTTP.
// Must never keep state for a request: it returns the format to serve, or -1 once it has answered the refusal.
import type * as uWS from 'uWebSockets.js'
import { FORMAT_JSON, FORMAT_MSGPACK, FORMAT_NAMES } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import { secureHeaders } from '../../http/security-headers.js'
import type { WsStats } from '../ws-stats.js'

/** `allowedOrigins` null = any origin; a missing Origin header (non-browser clients) is always allowed. */
export function upgradeFormat(res: uWS.HttpResponse, req: uWS.HttpRequest, allowedOrigins: ReadonlySet<string> | null, stats: WsStats): WireFormat | -1 {
  // uWS accepts version 8 by itself (reliability.md §B, measured): RFC 6455 §4.2.2 wants 426 with the version we speak
  if (req.getHeader('sec-websocket-version') !== '13') {
    stats.upgradesRejected.version++
    secureHeaders(res.writeStatus('426 Upgrade Required')).writeHeader('Sec-WebSocket-Version', '13').end('WebSocket version 13 required')
    return -1
  }
  const f = req.getQuery('format')
  const format: WireFormat | -1 = f === undefined || f === 'json' ? FORMAT_JSON : f === 'msgpack' ? FORMAT_MSGPACK : -1
  if (format === -1) {
    stats.upgradesRejected.format++
    secureHeaders(res.writeStatus('400 Bad Request')).writeHeader('Content-Type', 'application/json')
      .end(JSON.stringify({ error: 'BAD_FORMAT', message: `format must be one of ${FORMAT_NAMES.join(', ')}` }))
    return -1
  }
  const origin = req.getHeader('origin')
  if (allowedOrigins !== null && origin !== '' && (origin === 'null' || !allowedOrigins.has(origin))) {
    stats.upgradesRejected.origin++
    secureHeaders(res.writeStatus('403 Forbidden')).end('origin not allowed')
    return -1
  }
  return format
}
