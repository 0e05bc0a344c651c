// Owns the plain HTTP request counters (route × status class) that src/http/routes.ts bumps once per request.
// Must never take a raw path or a full status code as a key: both label sets are closed, so series stay bounded.

/** Route names: the registered routes of src/http/routes.ts, plus `other` (the 404 catch-all, extra routes). */
export const HTTP_ROUTES = ['healthz', 'readyz', 'symbols', 'snapshot', 'metrics', 'other'] as const
export type HttpRoute = (typeof HTTP_ROUTES)[number]

/** Status classes, not codes: `2xx`…`5xx` answer every dashboard question without one series per code. */
export const HTTP_STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const

export class HttpStats {
  /** requests[route index * 4 + status class index]; one flat array so counting allocates nothing */
  readonly requests = new Float64Array(HTTP_ROUTES.length * HTTP_STATUS_CLASSES.length)
  /** pipelined requests over the per-turn bound (src/http/pipeline-guard.ts): each closed its connection */
  pipeliningRefused = 0

  /** One request answered: `route` is an HTTP_ROUTES name, `status` the numeric code (e.g. 404). */
  count(route: HttpRoute, status: number): void {
    const r = HTTP_ROUTES.indexOf(route)
    const c = status >= 500 ? 3 : status >= 400 ? 2 : status >= 300 ? 1 : 0
    this.requests[(r < 0 ? HTTP_ROUTES.length - 1 : r) * HTTP_STATUS_CLASSES.length + c]++
  }
}
