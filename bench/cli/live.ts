// Owns what the bench shows while it runs: one sample a second from the Meter, a live line and a progress bar.
// Must never write the live line into a log as control characters: without a TTY it prints plain periodic lines.
import type { Meter, Sample } from './scenario.js'

/** Turns a Meter's running totals into one Sample per call (rates over the time since the previous call). */
export class Sampler {
  private prevUpdates = 0
  private prevAt = performance.now()
  private readonly t0 = performance.now()
  constructor(private readonly meter: Meter) {}
  sample(): Sample {
    const m = this.meter, now = performance.now()
    const dt = Math.max((now - this.prevAt) / 1000, 1e-3)
    const h = m.interval
    const s: Sample = {
      t: Math.round((now - this.t0) / 100) / 10, connections: m.connections, updatesPerSec: Math.round((m.updates - this.prevUpdates) / dt),
      errors: m.errors, p50Ms: h.totalCount ? h.getValueAtPercentile(50) / 1000 : 0, p99Ms: h.totalCount ? h.getValueAtPercentile(99) / 1000 : 0,
    }
    h.reset()
    this.prevUpdates = m.updates; this.prevAt = now
    return s
  }
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US')
const fmtMs = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))

/** The live line's text: also what README shows as a sample. */
export function liveText(s: Sample, label: string): string {
  return `conns ${fmtInt(s.connections)}  updates/s ${fmtInt(s.updatesPerSec)}  p50 ${fmtMs(s.p50Ms)} ms  p99 ${fmtMs(s.p99Ms)} ms  errors ${fmtInt(s.errors)}${label ? '  ' + label : ''}`
}

function bar(fraction: number, width = 20): string {
  const f = Math.min(Math.max(fraction, 0), 1), full = Math.round(f * width)
  return `[${'='.repeat(Math.max(full - 1, 0))}${full > 0 ? (full === width ? '=' : '>') : ''}${' '.repeat(width - full)}] ${String(Math.round(f * 100)).padStart(3)}%`
}

export interface LiveOptions { tty: boolean; quiet: boolean; everySec: number; out: NodeJS.WriteStream | NodeJS.WritableStream }

/** Prints samples: a redrawn line with a bar on a TTY; a plain line every `everySec` seconds otherwise. */
export class LiveLine {
  private n = 0
  private drawn = false
  constructor(private readonly o: LiveOptions) {}
  show(s: Sample, progress: number, elapsedSec: number, totalSec: number, label: string): void {
    if (this.o.quiet) return
    const time = `${Math.round(elapsedSec)}s/${Math.round(totalSec)}s`
    if (this.o.tty) {
      const cols = (this.o.out as NodeJS.WriteStream).columns ?? 120
      const line = `${bar(progress)} ${time}  ${liveText(s, label)}`
      this.o.out.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length))}\x1b[K`)
      this.drawn = true
    } else if (this.n++ % this.o.everySec === 0) {
      this.o.out.write(`${String(Math.round(progress * 100)).padStart(3)}% ${time}  ${liveText(s, label)}\n`)
    }
  }
  /** Ends the redrawn line so what follows starts on its own line. */
  done(): void { if (this.drawn) { this.o.out.write('\n'); this.drawn = false } }
}
