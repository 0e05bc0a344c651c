// Owns the client's latency probe: outstanding pings by id, their round trip when the pong comes, the ping timer.
// Must never touch subscriptions or decide about reconnects: the session calls in, and gets a figure back.

export class Pings {
  private readonly pending = new Map<string, { t0: number; resolve: (ms: number) => void }>()
  private timer: ReturnType<typeof setInterval> | null = null
  private next = 0

  /** Sends a ping with `send`; resolves with the round trip in ms (NaN when the connection closes first). */
  ping(send: (text: string) => void): Promise<number> {
    const id = 'p' + (this.next++)
    return new Promise<number>((resolve) => {
      this.pending.set(id, { t0: performance.now(), resolve })
      send(JSON.stringify({ op: 'ping', id }))
    })
  }

  /** A pong arrived: its round trip in ms, or NaN when it answers no ping of ours. */
  pong(id: unknown): number {
    const p = this.pending.get(String(id))
    if (!p) return NaN
    this.pending.delete(String(id))
    const ms = performance.now() - p.t0
    p.resolve(ms)
    return ms
  }

  start(periodMs: number, tick: () => void): void {
    this.stop()
    if (periodMs <= 0) return
    this.timer = setInterval(tick, periodMs)
    tick()
  }

  /** Stops the timer; with `closed`, every outstanding ping resolves NaN. */
  stop(closed = false): void {
    if (this.timer !== null) { clearInterval(this.timer); this.timer = null }
    if (closed) { for (const p of this.pending.values()) p.resolve(NaN); this.pending.clear() }
  }
}
