// Owns writing an HTTP response body with respect for the peer's reading: what the socket takes now is written, the
// rest follows as the peer reads (onWritable), from the caller's own bytes. Must never copy the body into a buffer
// for a peer that does not read.
//
// Why: res.end(body) copies whatever the kernel does not take into uWS's per-socket buffer, so a peer pipelining
// 6,000 `GET /asyncapi.json` and never reading held +262 MB (issue 10). With tryEnd, uWS keeps nothing: the pending
// response points at our cached bytes, and uWS closes a connection that sends another request while a response to
// it is still pending (measured with uws-pack 20.0.8: 50 pipelined 200 KB answers to a paused peer → cut after ~20,
// the kernel's buffer). So a connection's unread output is bounded by its socket buffer plus one response.
import type * as uWS from 'uWebSockets.js'
import { CSP_NONE, secureHeaders } from './security-headers.js'

/**
 * Status, the security headers (`csp` for a document, deny-all otherwise), headers and body, the body streamed as
 * the peer reads. Call inside a handler or res.cork(). On a HEAD view (head-requests.ts) tryEnd writes no body.
 */
export function sendBody(res: uWS.HttpResponse, status: string, headers: ReadonlyArray<readonly [string, string]>, body: Uint8Array, csp: string = CSP_NONE): void {
  secureHeaders(res.writeStatus(status), csp)
  for (const [k, v] of headers) res.writeHeader(k, v)
  const start = res.getWriteOffset(), total = body.length
  const [, done] = res.tryEnd(body, total)
  if (done) return
  let aborted = false
  res.onAborted(() => { aborted = true })
  res.onWritable((offset) => {
    if (aborted) return true
    const [ok] = res.tryEnd(body.subarray(offset - start), total)
    return ok
  })
}
