// Owns the contract between the bench CLI and a scenario: its options, what it is given to run, what it hands back.
// Must never change shape lightly: other branches add scenarios against it (bench/scenarios/*.ts, listed in registry.ts).
import * as hdr from 'hdr-histogram-js'

/** One option of a scenario: `--name <value>`; numbers accept 1e6, 10k, 2M. */
export interface OptionSpec {
  name: string
  type: 'string' | 'number' | 'boolean'
  default?: string | number | boolean
  help: string
  /** shown in --help as `--name <placeholder>` */
  placeholder?: string
}
export type OptionValues = Record<string, string | number | boolean | undefined>

/** Where the load goes. Embedded: the CLI started tickcast (and its simulator) itself on 127.0.0.1. */
export interface Target {
  /** ws://host:port/v1/stream (the path is kept as given) */
  ws: string
  /** http://host:port (no trailing slash), for /v1/snapshot, /metrics, /readyz */
  http: string
  /**
   * the Prometheus endpoint (http://host:port/metrics: tickcast serves it on a listener of its own); null or absent:
   * unknown (optional so Targets built before it existed still type-check)
   */
  metrics?: string | null
  /** mqtt://host:port, or null when the deployment has no MQTT listener the CLI knows of */
  mqtt: string | null
  /** credential sent as `Authorization: Bearer` (JWT or API key), or null */
  credential: string | null
  /** 'header': on the upgrade; 'message': the first frame `{"op":"auth","token":...}` */
  authMode: 'header' | 'message'
  embedded: boolean
  /** embedded only: the simulator feeding the server (its SoupBinTCP port), so `feed` can report on it */
  feedPort: number | null
}

/** Which share of the load this process generates (`--procs N`: k of N; one process: 0 of 1). */
export interface Share { index: number; count: number }

/**
 * Live counters a scenario bumps while it runs; the CLI samples them once a second into the live line, the
 * timeseries and (with --procs) the parent. Plain fields: bumping one costs nothing.
 */
export class Meter {
  connections = 0
  /** delivered updates (or messages, requests) since the start; the CLI turns deltas into per-second rates */
  updates = 0
  errors = 0
  /** 0..1 for ramps and fixed-length work; null: the CLI shows elapsed / --duration */
  progress: number | null = null
  /** seconds the run is expected to take when it is not --warmup + --duration (ramps); null: those */
  expectedSec: number | null = null
  /** short word shown in the live line, e.g. "ramp 400 subs" */
  label = ''
  /** latency samples (µs) of the current second; the CLI reads p50/p99 and resets it */
  readonly interval = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
  /** every latency sample of the run (µs) */
  readonly total = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
  /** record one latency sample in microseconds (clamped to the histogram's range) */
  record(us: number): void {
    const v = us < 1 ? 1 : us > 3_599_999_999 ? 3_599_999_999 : Math.round(us)
    this.interval.recordValue(v); this.total.recordValue(v)
  }
}

/** Everything a scenario run gets. */
export interface RunContext {
  target: Target
  options: OptionValues
  /** seconds of measured load (--duration); a scenario may run shorter (connect) or in steps (ramps) */
  durationSec: number
  /** seconds before measuring starts (--warmup) */
  warmupSec: number
  meter: Meter
  share: Share
  /** aborted on SIGINT / --max-sec: stop generating and return what was measured */
  signal: AbortSignal
  /** a line for the log (stderr), never the live line */
  log(line: string): void
}

/** One point of a ramp: what was offered (subscribers) against what was delivered. */
export interface RampStep { subscribers: number; updatesPerSec: number; p99Ms: number; [key: string]: number }

/** One sample per second (the CLI fills it from the Meter). Latencies in ms over that second. */
export interface Sample { t: number; connections: number; updatesPerSec: number; errors: number; p50Ms: number; p99Ms: number }

/**
 * What a scenario hands back; merging (`--procs`, `merge`) sums counts and rates, merges histograms, keeps the
 * max of values. Metrics (thresholds, compare, reports) are derived from it: see result.ts.
 */
export interface RunResult {
  /** totals reported as they are: connections, errors, gaps, duplicates, slow notices... (summed on merge) */
  counts: Record<string, number>
  /** totals reported per second of `elapsedSec`: updates, frames, bytes, requests... (summed on merge) */
  rates: Record<string, number>
  /** observations that do not add up across generators (server RSS drift, ping RTT mean): max on merge */
  values: Record<string, number>
  /** HDR histograms in µs, compressed base64 (hdr-histogram-js); `latency` is the primary one (p50, p99...) */
  histograms: Record<string, string>
  /** ramps only */
  ramp?: RampStep[]
  /** more lines over time for the report (soak: server RSS, event-loop delay...); x = seconds since the start */
  extraSeries?: Array<{ name: string; unit: string; points: Array<[number, number]> }>
  /** plain facts for the report, e.g. "data age across hosts needs synchronized clocks" */
  notes?: string[]
  /** filled by the CLI */
  elapsedSec?: number
  timeseries?: Sample[]
}

export interface Scenario {
  name: string
  /** one line for the scenario list */
  summary: string
  /** a paragraph for `<scenario> --help` */
  description: string
  options: OptionSpec[]
  /** false: --procs does not split it (it runs once, in the parent) */
  splittable: boolean
  /** true: needs the MQTT listener (embedded server starts its broker; remote needs --mqtt) */
  needsMqtt?: boolean
  /**
   * true: the scenario starts everything it measures itself (saturation's side-by-side systems): without --url the
   * CLI starts no embedded server, and ctx.target is an embedded placeholder with empty URLs.
   */
  ownTarget?: boolean
  run(ctx: RunContext): Promise<RunResult>
}

/** An empty result to fill in. */
export function emptyResult(): RunResult { return { counts: {}, rates: {}, values: {}, histograms: {} } }

/** Splits n items across the processes: how many this share gets (the first ones get the remainder). */
export function shareOf(n: number, share: Share): number {
  return Math.floor(n / share.count) + (share.index < n % share.count ? 1 : 0)
}

/** Resolves after ms, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return }
    const t = setTimeout(() => { signal?.removeEventListener('abort', done); resolve() }, ms)
    const done = (): void => { clearTimeout(t); resolve() }
    signal?.addEventListener('abort', done, { once: true })
  })
}
