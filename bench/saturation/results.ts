// Owns the saturation benchmark's options and result shapes (the JSON file is exactly SaturationResult).
// Must never compute anything: run.ts measures, summary.ts derives, report.ts prints.
import type { SystemName } from './systems.js'

export interface SaturationOptions {
  /** compared under load, in this order (alternated each round) */
  systems: SystemName[]
  subs: number
  /** the first N symbols of the universe, busiest first */
  symbols: number
  symbolsPerSub: number
  /** offered feed rates, messages per second, ascending: the open-loop steps */
  steps: number[]
  stepSec: number
  /** after each rate change, before counting */
  settleSec: number
  /** after the clients connected, before the first step */
  warmupSec: number
  /** idle memory: wait before each RSS reading (after each wave, then GC) */
  idleSettleSec: number
  rounds: number
  /** load-generator processes */
  procs: number
  /** idle connections for the memory comparison against bare uWS; 0 = skip it */
  idleConns: number
  /** complete delivery: p99 of per-update age at most this */
  p99LimitMs: number
  /** complete delivery: delivered / expected updates at least this (catches stalled connections; the step's edges
   *  are not aligned, and a reader within p99 50 ms of a 2 s step may be up to 2.5 % behind the fastest) */
  completeRatio: number
  /** a system whose processes pass this RSS is stopped (reported, not fatal) */
  maxRssMiB: number
  /** the whole run; systems not reached are reported as skipped */
  maxSec: number
  connectTimeoutMs: number
  tickcastArgs: string[]
  /** JSON file written at the end, whatever happened */
  out: string
  /** progress lines */
  log: (line: string) => void
  /** aborted (SIGINT, the bench CLI's --max-sec): no new step or system starts; what was measured is kept */
  signal?: AbortSignal
}

export interface StepResult {
  /** offered rate asked of the simulator, and what it measurably sent (messages/s) */
  target: number; offered: number
  updatesPerSec: number; expectedPerSec: number; deliveredRatio: number
  /** WebSocket data frames/s received; messages/s = NATS MSGs for nats, frames otherwise */
  framesPerSec: number; messagesPerSec: number; mbPerSec: number
  p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number
  gaps: number; missing: number; dups: number; stale: number; snaps: number
  controls: Record<string, number>; closeCodes: Record<string, number>; silent: number
  serverCpuPct: number; cpuUsPerUpdate: number; serverRssMiB: number; loadCpuPct: number
  /**
   * the load processes' own cost and clock (absent in runs saved before they were measured): CPU per received update,
   * TCP reads/s, and the p99 and longest event-loop turn that read data (one clock read per turn: the bound on an age's error)
   */
  loadCpuUsPerUpdate?: number; loadReadsPerSec?: number; loadTurnP99Ms?: number; loadTurnMaxMs?: number
  /**
   * p99 with each update aged from its load process's event-loop turn start instead of its own read: without the
   * queueing behind the process's other clients (context only: it can understate by up to a turn; p99Ms decides)
   */
  p99AtTurnStartMs?: number
  complete: boolean
  /** why the step is not complete (empty when it is) */
  why: string[]
}

export interface SystemRun {
  system: SystemName; round: number
  status: 'ok' | 'failed' | 'skipped'
  error?: string
  subs: number; connected: number
  steps: StepResult[]
  /** highest complete step before the second incomplete step in a row; null: none complete */
  saturation: number | null
  /** true when the top step was reached and complete: saturation is at least the top step */
  saturationCapped: boolean
  /** highest step up to which no stale marker (feed gap) was seen; null: none */
  gapFreeUpTo: number | null
  /** lowest step with a stale marker; null: none among the steps measured */
  firstGapAt: number | null
  wallSec: number
}

export interface IdleResult {
  system: SystemName; round: number; status: 'ok' | 'failed'; error?: string
  conns: number; connected: number
  /** server anonymous RSS (RssAnon) after GC: before any client, then after each wave (two unsubscribed, two subscribed) */
  rssMiB: number[]
  /** marginal bytes per connection (the second wave of each kind): unsubscribed (what the target uses), subscribed */
  bytesPerConn: number; bytesPerConnSubscribed: number
  /** the first wave's growth per connection, one-off heap growth included (context only) */
  firstWaveBytesPerConn: number
}

export interface Target { name: string; goal: string; value: string; met: boolean | null }

export interface Summary {
  /** median over rounds */
  saturation: Partial<Record<SystemName, number | null>>
  /** tickcast saturation / each baseline's, median of per-round ratios; `bound` says when one side hit a step edge */
  ratios: Array<{ baseline: SystemName; ratio: number | null; bound: 'exact' | 'at-least' | 'at-most' | 'unknown'; perRound: Array<number | null> }>
  /** server CPU µs per delivered update at the step nearest 2 M deliveries/s: complete steps first, else lossless ones
   *  (no gap, conflation or close; `complete` false: the figure has no verdict) */
  cpuAt2M: Partial<Record<SystemName, { updatesPerSec: number; cpuUsPerUpdate: number; complete: boolean
    /** the same steps' server CPU / the load processes' CPU per update (median): both do fixed work per update, so
     *  this ratio shows the server's cost apart from the machine's speed, which varied ×1.6 between runs */
    perLoadCpu?: number | null } | null>>
  /** marginal idle bytes per connection (median over rounds), unsubscribed and subscribed */
  idle: { tickcast: number | null; bareUws: number | null; ratio: number | null; tickcastSubscribed: number | null; bareUwsSubscribed: number | null; ratioSubscribed: number | null }
  gapFreeUpTo: number | null
  /** tickcast: the lowest step with a feed gap over the rounds, null: none seen */
  firstGapAt: number | null
  targets: Target[]
}

export interface SaturationResult {
  schema: 'tickcast-saturation/1'
  date: string
  command: string
  machine: { cpus: number; cpuModel: string; memGiB: number; node: string; platform: string; loadAvgStart: number[]; loadAvgEnd: number[]; commit: string }
  clocks: string
  completeMeans: string
  options: Omit<SaturationOptions, 'log' | 'signal'>
  runs: SystemRun[]
  idle: IdleResult[]
  summary: Summary
  wallSec: number
}
