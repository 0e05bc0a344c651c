// Owns deriving the saturation benchmark's headline figures and target verdicts from the measured runs.
// Must never measure or print: it is a pure function of the runs, so a saved JSON can be summarised again.
import type { IdleResult, SaturationOptions, StepResult, Summary, SystemRun, Target } from './results.js'
import type { SystemName } from './systems.js'

const TWO_M = 2_000_000

function median(xs: number[]): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const r2 = (x: number | null): number | null => x === null ? null : Math.round(x * 100) / 100
/** CPU per update keeps the steps' three decimals: rounded to two, 0.201 µs read as 0.2 and met the 0.2 µs goal */
const r3 = (x: number | null): number | null => x === null ? null : Math.round(x * 1000) / 1000

type Bound = Summary['ratios'][number]['bound']

/** One round's tickcast / baseline saturation ratio; a side at a step edge makes it a bound, a failed side unknown. */
function roundRatio(tc: SystemRun | undefined, base: SystemRun | undefined, lowest: number): { ratio: number | null; bound: Bound } {
  if (!tc || !base || tc.status !== 'ok' || base.status !== 'ok') return { ratio: null, bound: 'unknown' }
  if (tc.saturationCapped && base.saturationCapped) return { ratio: null, bound: 'unknown' }
  const t = tc.saturation, b = base.saturation
  if (t === null && b === null) return { ratio: null, bound: 'unknown' }
  if (b === null) return { ratio: t! / lowest, bound: 'at-least' } // baseline below the lowest step
  if (t === null) return { ratio: lowest / b, bound: 'at-most' }
  return { ratio: t / b, bound: tc.saturationCapped ? 'at-least' : base.saturationCapped ? 'at-most' : 'exact' }
}

export function summarize(runs: SystemRun[], idle: IdleResult[], o: Pick<SaturationOptions, 'systems' | 'rounds' | 'steps' | 'subs' | 'symbolsPerSub'>): Summary {
  const saturation: Summary['saturation'] = {}
  const cpuAt2M: Summary['cpuAt2M'] = {}
  for (const sys of o.systems) {
    const mine = runs.filter((r) => r.system === sys && r.status === 'ok')
    saturation[sys] = median(mine.flatMap((r) => r.saturation === null ? [] : [r.saturation]))
    const lossless = (st: StepResult): boolean => st.gaps + st.stale + st.snaps + st.silent === 0 && Object.keys(st.closeCodes).length === 0
    const nearest = (ok: (st: StepResult) => boolean): StepResult[] => mine.flatMap((r) => {
      const cands = r.steps.filter((st) => ok(st) && st.updatesPerSec >= TWO_M / 2 && st.updatesPerSec <= TWO_M * 2)
      cands.sort((a, b) => Math.abs(Math.log(a.updatesPerSec / TWO_M)) - Math.abs(Math.log(b.updatesPerSec / TWO_M)))
      return cands.slice(0, 1)
    })
    const complete = nearest((st) => st.complete), near = complete.length > 0 ? complete : nearest(lossless)
    cpuAt2M[sys] = near.length === 0 ? null
      : { updatesPerSec: median(near.map((st) => st.updatesPerSec))!, cpuUsPerUpdate: r3(median(near.map((st) => st.cpuUsPerUpdate)))!, complete: complete.length > 0,
          perLoadCpu: r2(median(near.flatMap((st) => st.loadCpuUsPerUpdate ? [st.cpuUsPerUpdate / st.loadCpuUsPerUpdate] : []))) }
  }
  const ratios: Summary['ratios'] = []
  for (const base of o.systems.filter((s) => s !== 'tickcast')) {
    const per = Array.from({ length: o.rounds }, (_, k) => roundRatio(runs.find((r) => r.round === k && r.system === 'tickcast'), runs.find((r) => r.round === k && r.system === base), o.steps[0]))
    const vals = per.flatMap((p) => p.ratio === null ? [] : [p.ratio])
    const bound: Bound = vals.length === 0 ? 'unknown' : per.find((p) => p.ratio !== null && p.bound !== 'exact')?.bound ?? 'exact'
    ratios.push({ baseline: base, ratio: r2(median(vals)), bound, perRound: per.map((p) => r2(p.ratio)) })
  }
  const idleOf = (s: SystemName, subscribed = false): number | null => median(idle.filter((r) => r.system === s && r.status === 'ok').map((r) => subscribed ? r.bytesPerConnSubscribed : r.bytesPerConn))
  const ratio = (a: number | null, b: number | null): number | null => a !== null && b !== null && b > 0 ? r2(a / b) : null
  const tcIdle = idleOf('tickcast'), bareIdle = idleOf('bare-uws'), tcSub = idleOf('tickcast', true), bareSub = idleOf('bare-uws', true)
  const tcRuns = runs.filter((r) => r.system === 'tickcast' && r.status === 'ok')
  const gapFreeOf = (r: SystemRun): number | null => { const k = r.steps.findIndex((st) => st.stale > 0); const last = k < 0 ? r.steps.length - 1 : k - 1; return last >= 0 ? r.steps[last].target : null }
  const gapFree = tcRuns.length === 0 ? null : tcRuns.reduce<number | null>((m, r) => { const g = gapFreeOf(r); return m === null || g === null ? null : Math.min(m, g) }, Infinity)
  const gapsAt = tcRuns.flatMap((r) => r.steps.filter((st) => st.stale > 0).slice(0, 1).map((st) => st.target))
  const summary: Summary = {
    saturation, ratios, cpuAt2M,
    idle: { tickcast: tcIdle, bareUws: bareIdle, ratio: ratio(tcIdle, bareIdle), tickcastSubscribed: tcSub, bareUwsSubscribed: bareSub, ratioSubscribed: ratio(tcSub, bareSub) },
    gapFreeUpTo: gapFree, firstGapAt: gapsAt.length > 0 ? Math.min(...gapsAt) : null, targets: [],
  }
  summary.targets = targets(summary, o)
  return summary
}

function targets(s: Summary, o: Pick<SaturationOptions, 'steps' | 'subs' | 'symbolsPerSub'>): Target[] {
  const t: Target[] = []
  const nb = s.ratios.find((r) => r.baseline === 'nats-batched')
  const ratioText = nb?.ratio == null ? 'no ratio (see runs)' : `×${nb.ratio}${nb.bound === 'at-least' ? ' or more' : nb.bound === 'at-most' ? ' or less' : ''}`
  t.push({ name: 'saturation vs nats-server WS, batched, same run', goal: '≥ 2× at 1,000 subscribers', value: `${ratioText} at ${o.subs} subscribers`,
    met: nb?.ratio == null || o.subs !== 1000 ? null : nb.ratio >= 2 ? (nb.bound === 'at-most' ? null : true) : (nb.bound === 'at-least' ? null : false) })
  const cpu = s.cpuAt2M.tickcast
  t.push({ name: 'server CPU per delivered update', goal: '≤ 0.2 µs at 2 M deliveries/s',
    value: cpu ? `${cpu.cpuUsPerUpdate} µs at ${(cpu.updatesPerSec / 1e6).toFixed(2)} M/s${cpu.complete ? '' : ' (a lossless but incomplete step: no verdict)'}${cpu.perLoadCpu == null ? '' : `; ×${cpu.perLoadCpu} of the load generators' CPU for the same updates (the same-run gauge of the machine's speed)`}` : 'no lossless step near 2 M/s',
    met: cpu && cpu.complete ? cpu.cpuUsPerUpdate <= 0.2 : null })
  t.push({ name: 'idle connection memory vs bare uWS (feed quiet, after GC, marginal)', goal: '≤ 1.5×',
    value: s.idle.ratio === null ? 'not measured' : `×${s.idle.ratio} (${s.idle.tickcast} vs ${s.idle.bareUws} B); subscribed to ${o.symbolsPerSub} symbols ×${s.idle.ratioSubscribed ?? 'n/a'} (${s.idle.tickcastSubscribed} vs ${s.idle.bareUwsSubscribed} B, bare uWS on uWS topics)`,
    met: s.idle.ratio === null ? null : s.idle.ratio <= 1.5 })
  const sat = s.saturation.tickcast ?? null
  // met when measured gap-free up to 5× saturation; not met when a gap came at or below it; else the steps left a hole
  const gapGoalMet = sat === null ? null
    : s.gapFreeUpTo !== null && s.gapFreeUpTo >= 5 * sat ? true : s.firstGapAt !== null && s.firstGapAt <= 5 * sat ? false : null
  const gapText = s.gapFreeUpTo === null ? 'gaps at the lowest step' : `none up to ${s.gapFreeUpTo}/s offered${sat ? ` (${(s.gapFreeUpTo / sat).toFixed(1)}× saturation)` : ''}`
  t.push({ name: 'feed gaps (stale markers)', goal: '0 up to 5× saturation', value: gapText + (s.firstGapAt === null ? '; none seen' : `; first at ${s.firstGapAt}/s${sat ? ` (${(s.firstGapAt / sat).toFixed(1)}×)` : ''}`),
    met: gapGoalMet })
  return t
}
