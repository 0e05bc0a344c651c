// Owns authentication on REST routes: the same credentials as the WebSocket (Bearer header, ?token= when enabled).
// Must never answer before onAborted is set when it awaits, nor echo the credential in a reply or a log.
import type * as uWS from 'uWebSockets.js'
import { secureHeaders } from '../http/security-headers.js'
import type { AuditLog } from './audit-log.js'
import type { Authenticator } from './authenticator.js'
import type { Entitlements } from './entitlements.js'

export interface HttpAuthorizer {
  /**
   * Runs `then(ent, principal)` with the caller's entitlements (corked when it waited for a JWT), or answers 401/429 itself.
   * Headers are read before any await; `then` must not touch `req`.
   */
  authorize(res: uWS.HttpResponse, req: uWS.HttpRequest, route: string, then: (ent: Entitlements, principal: string, ip: string) => void): void
}

export function httpAuthorizer(authn: Authenticator, audit: AuditLog): HttpAuthorizer {
  return {
    authorize(res, req, route, then) {
      const ip = Buffer.from(res.getRemoteAddressAsText()).toString()
      const h = req.getHeader('authorization')
      let token = h.length > 7 && h.slice(0, 7).toLowerCase() === 'bearer ' ? h.slice(7).trim() : ''
      if (token === '' && authn.o.queryToken) token = req.getQuery('token') ?? ''
      if (token === '') {
        const anon = authn.anonymous(), ent = anon && authn.entitlementsOf(anon)
        if (ent) { then(ent, anon!.id, ip); return }
        authn.fail('missing'); audit.authFailure(ip, 'missing', route)
        secureHeaders(res.writeStatus('401 Unauthorized')).writeHeader('WWW-Authenticate', 'Bearer').end('{"error":"UNAUTHORIZED","reason":"missing"}')
        return
      }
      if (!authn.limiter.allowed(ip, performance.now())) {
        authn.fail('rate_limited'); audit.authFailure(ip, 'rate_limited', route)
        secureHeaders(res.writeStatus('429 Too Many Requests')).writeHeader('Retry-After', '1').end('{"error":"UNAUTHORIZED","reason":"rate_limited"}')
        return
      }
      let aborted = false
      res.onAborted(() => { aborted = true })
      void authn.authenticate(token).then((r) => {
        if (aborted) return
        const ent = r.ok ? authn.entitlementsOf(r.grant) : null
        if (!r.ok || ent === null) {
          const reason = r.ok ? 'revoked' : r.reason
          if (!r.ok) authn.limiter.failed(ip, performance.now())
          audit.authFailure(ip, reason, route)
          res.cork(() => { secureHeaders(res.writeStatus('401 Unauthorized')).writeHeader('WWW-Authenticate', 'Bearer').end(`{"error":"UNAUTHORIZED","reason":"${reason}"}`) })
          return
        }
        res.cork(() => then(ent, r.grant.id, ip))
      })
    },
  }
}
