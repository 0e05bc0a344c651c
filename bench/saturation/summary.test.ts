import { describe, expect, it } from 'vitest'
import type { StepResult, SystemRun } from './results.js'
import { summarize } from './summary.js'

/** a complete, lossless step at 20,000 msgs/s (2 M updates/s) with this CPU per update */
function step(cpuUsPerUpdate: number, loadCpuUsPerUpdate?: number): StepResult {
  return {
    target: 20000, offered: 20000, updatesPerSec: 1.97e6, expectedPerSec: 1.97e6, deliveredRatio: 1,
    framesPerSec: 25000, messagesPerSec: 25000, mbPerSec: 200, p50Ms: 22, p99Ms: 44, p999Ms: 46, maxMs: 50,
    gaps: 0, missing: 0, dups: 0, stale: 0, snaps: 0, controls: {}, closeCodes: {}, silent: 0,
    serverCpuPct: 40, cpuUsPerUpdate, serverRssMiB: 130, loadCpuPct: 60, loadCpuUsPerUpdate, complete: true, why: [],
  }
}
const run = (round: number, cpu: number, loadCpu?: number): SystemRun => ({
  system: 'tickcast', round, status: 'ok', subs: 1000, connected: 1000, steps: [step(cpu, loadCpu)], saturation: 20000,
  saturationCapped: true, gapFreeUpTo: 20000, firstGapAt: null, wallSec: 10,
})
const opts = { systems: ['tickcast' as const], rounds: 2, steps: [20000], subs: 1000, symbolsPerSub: 50 }
const cpuVerdict = (a: number, b: number) => summarize([run(0, a), run(1, b)], [], opts).targets.find((t) => t.name === 'server CPU per delivered update')

describe('saturation summary: CPU per delivered update at 2 M/s', () => {
  it('judges the median of the rounds at its three decimals: 0.201 µs does not meet 0.2', () => {
    expect(cpuVerdict(0.198, 0.204)).toMatchObject({ met: false, value: expect.stringContaining('0.201 µs') })
    expect(cpuVerdict(0.188, 0.2)).toMatchObject({ met: true, value: expect.stringContaining('0.194 µs') })
  })

  it('prints the server CPU as a ratio of the load generators\' for the same updates, the verdict still on µs', () => {
    const t = summarize([run(0, 0.14, 0.227), run(1, 0.191, 0.304)], [], opts).targets.find((x) => x.name === 'server CPU per delivered update')
    // median of 0.617 and 0.628
    expect(t).toMatchObject({ met: true, value: expect.stringContaining('×0.62 of the load generators\' CPU') })
    expect(cpuVerdict(0.198, 0.204)?.value).not.toContain('load generators')
  })
})
