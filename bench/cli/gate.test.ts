// Thresholds, compare and merge on result data: units, the noise band, what adds up and what merges as histograms.
import * as hdr from 'hdr-histogram-js'
import { describe, expect, it } from 'vitest'
import { compare, formatComparison } from './compare.js'
import { parseOptions } from './options.js'
import { buildResult, mergeFiles } from './result.js'
import type { ResultFile } from './result.js'
import type { RunResult } from './scenario.js'
import { check, parseThreshold } from './thresholds.js'

function hist(valuesUs: number[]): string {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
  for (const v of valuesUs) h.recordValue(v)
  return hdr.encodeIntoCompressedBase64(h)
}
function run(updates: number, errors: number, latUs: number[]): RunResult {
  return { counts: { errors, connections: 10 }, rates: { updates }, values: { rss_mib: updates / 1000 }, histograms: { latency: hist(latUs) }, elapsedSec: 2, timeseries: [{ t: 1, connections: 10, updatesPerSec: updates / 2, errors, p50Ms: 1, p99Ms: latUs[latUs.length - 1] / 1000 }] }
}
function file(runs: RunResult[], host = 'a'): ResultFile {
  return buildResult({
    tool: 'tickcast-bench', schema: 1, scenario: 'fanout', startedAt: '2026-01-01T00:00:00Z', argv: [], options: {}, parts: 1,
    environment: { node: 'v20', platform: 'x', cpuModel: 'cpu', cpus: 2, memoryGiB: 1, hostname: host, commit: 'c', server: null, target: 'embedded', embedded: true, procs: 1 },
  }, runs)
}

describe('thresholds', () => {
  it('reads units and suffixes into the metric unit', () => {
    expect(parseThreshold('p99<50ms')).toMatchObject({ metric: 'p99', op: '<', value: 50 })
    expect(parseThreshold('p99 < 0.05s').value).toBe(50)
    expect(parseThreshold('p99<500us').value).toBe(0.5)
    expect(parseThreshold('updates>1e6').value).toBe(1e6)
    expect(parseThreshold('updates>=2.5M').value).toBe(2.5e6)
    expect(() => parseThreshold('updates>5ms')).toThrow(/not a duration/)
    expect(() => parseThreshold('p99 is small')).toThrow(/METRIC OP VALUE/)
  })
  it('passes and fails on the metrics; an unknown metric fails, naming the known ones', () => {
    const m = { p99: 40, updates: 2e6, errors: 0 }
    expect(check(parseThreshold('p99<50ms'), m).ok).toBe(true)
    expect(check(parseThreshold('p99<30ms'), m).ok).toBe(false)
    expect(check(parseThreshold('errors==0'), m).ok).toBe(true)
    const u = check(parseThreshold('p98<1ms'), m)
    expect(u.ok).toBe(false)
    expect(u.message).toMatch(/no metric 'p98'.*errors, p99, updates/)
  })
  it('the option parser keeps every --threshold and refuses bad numbers', () => {
    const p = parseOptions(['--threshold', 'p99<5ms', '--threshold', 'errors==0', '--duration', '2k'], null)
    expect(p.ok && p.thresholds).toEqual(['p99<5ms', 'errors==0'])
    expect(p.ok && p.values.duration).toBe(2000)
    expect(parseOptions(['--procs', '0'], null).ok).toBe(false)
  })
})

describe('repeats, compare and merge', () => {
  it('metrics are medians of the runs; the noise band is their half-spread', () => {
    const f = file([run(200_000, 0, [1000]), run(220_000, 0, [1000]), run(240_000, 0, [1000])])
    expect(f.metrics.updates).toBe(110_000) // per second over elapsedSec 2
    expect(f.noise.updates).toBeCloseTo(10_000 / 110_000, 5) // per second: 100k..120k around 110k
  })
  it('compare: a change inside twice the noise is noise; outside it, better or worse by the metric direction', () => {
    const base = file([run(200_000, 0, [1000]), run(210_000, 0, [1000])])
    const faster = file([run(400_000, 0, [500]), run(410_000, 0, [500])])
    const rows = compare(faster, base)
    const by = (m: string): string => rows.find((r) => r.metric === m)!.verdict
    expect(by('updates')).toBe('better')
    expect(by('p99')).toBe('better') // 0.5 vs 1 ms, and both sides' runs agreed exactly (noise 0)
    const same = compare(file([run(205_000, 0, [1000]), run(206_000, 0, [1000])]), base)
    expect(same.find((r) => r.metric === 'updates')!.verdict).toBe('within noise')
    expect(formatComparison(rows, 'base.json')).toMatch(/updates\s+102,500\s+202,500\s+×1\.98/)
  })
  it('merge: counts and rates add up, histograms merge (percentiles from all samples), values keep the max', () => {
    const a = file([run(100_000, 1, [1000, 1000, 1000])], 'a'), b = file([run(50_000, 2, [9000])], 'b')
    const m = mergeFiles([a, b])
    expect(m.parts).toBe(2)
    expect(m.environment.hostname).toBe('a,b')
    expect(m.metrics.updates).toBe(75_000)
    expect(m.metrics.errors).toBe(3)
    expect(m.metrics.connections).toBe(20)
    expect(m.metrics.samples).toBe(4)
    expect(m.metrics.p50).toBeCloseTo(1, 2)
    expect(m.metrics.max).toBeCloseTo(9, 1)
    expect(m.metrics.rss_mib).toBe(100)
    expect(m.runs[0].timeseries![0].updatesPerSec).toBe(75_000)
    expect(() => mergeFiles([a, { ...b, scenario: 'latency' }])).toThrow(/different scenarios/)
  })
})
