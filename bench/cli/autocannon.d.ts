// The part of autocannon's API the snapshot scenario uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'
  interface Request { method?: string; path: string; headers?: Record<string, string> }
  interface Options { url: string; connections?: number; pipelining?: number; duration?: number; headers?: Record<string, string>; requests?: Request[]; timeout?: number }
  interface Result {
    totalCompletedRequests: number; totalBytes: number; errors: number; timeouts: number; non2xx: number; resets: number
    statusCodeStats: Record<string, { count: number }>; duration: number
  }
  interface Instance extends EventEmitter, PromiseLike<Result> { stop(): void }
  function autocannon(opts: Options): Instance
  export default autocannon
}
