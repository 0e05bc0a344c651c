// Owns HEAD: every GET route answers HEAD with the same status and headers, Content-Length of the GET body, no body.
// Must never write a body to a HEAD response (it would be read as the next response on a keep-alive connection).
import type * as uWS from 'uWebSockets.js'

type Handler = (res: uWS.HttpResponse, req: uWS.HttpRequest) => void

function byteLength(body: uWS.RecognizedString | undefined): number {
  if (body === undefined) return 0
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
}

/**
 * A view of `res` whose end(body) (and tryEnd(body, total)) writes Content-Length itself and ends without the body. uWS's own
 * endWithoutBody(length) aborts the process in uws-pack 20.0.8 (measured), while a Content-Length header followed by
 * endWithoutBody() is sent as written. Every other method (writeStatus, writeHeader, cork, onAborted…) is the real
 * one, and methods that return the response return this view, so chained calls still end here. HEAD is rare: the
 * per-request proxy is not on any hot path.
 */
export function headOnly(res: uWS.HttpResponse): uWS.HttpResponse {
  const view: uWS.HttpResponse = new Proxy(res, {
    get(target, prop) {
      if (prop === 'end') {
        return (body?: uWS.RecognizedString): uWS.HttpResponse => {
          target.writeHeader('Content-Length', String(byteLength(body))).endWithoutBody()
          return view
        }
      }
      if (prop === 'tryEnd') { // send-body.ts streams with tryEnd: the same, whole at once
        return (_body: uWS.RecognizedString, totalSize: number): [boolean, boolean] => {
          target.writeHeader('Content-Length', String(totalSize)).endWithoutBody()
          return [true, true]
        }
      }
      const v: unknown = Reflect.get(target, prop)
      if (typeof v !== 'function') return v
      return (...args: unknown[]): unknown => {
        const r: unknown = (v as (...a: unknown[]) => unknown).apply(target, args)
        return r === target ? view : r
      }
    },
  })
  return view
}

/** Registers `handler` for GET and HEAD on `pattern` (uWS routes them separately: a GET-only route 404s a HEAD). */
export function getAndHead(app: uWS.TemplatedApp, pattern: string, handler: Handler): void {
  app.get(pattern, handler)
  app.head(pattern, (res, req) => { handler(headOnly(res), req) })
}

/** For a catch-all (`app.any`): the response to write to, body suppressed when the request is a HEAD. */
export function forMethod(res: uWS.HttpResponse, req: uWS.HttpRequest): uWS.HttpResponse {
  return req.getMethod() === 'head' ? headOnly(res) : res
}
