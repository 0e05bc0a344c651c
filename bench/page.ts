// The live page's frame rate at a busy feed (issue 12 item 5): tickcast with its embedded simulator at --sim-rate
// updates/s, the page in headless Chromium (software raster), every symbol subscribed; fps and frame times measured
// from requestAnimationFrame timestamps, updates/s as the wire events the page's client received over the same window
// (so a page that fell behind, and was conflated by the server, shows it). Never asserts: prints figures, beside an
// empty page (this machine's frame-rate ceiling under its current load) and, with PAGE_BASELINE_DIR, another checkout's
// page, measured in the same run.
// The renderer's CPU (its main thread per frame, all its threads per second, from /proc) is printed too: on a loaded
// machine fps measures the scheduler as much as the page, CPU per frame does not.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { chromiumPath } from './cli/png.js'
import { freePort, spawnReady, stop } from './lib/procs.js'

const RATE = Number(process.env.PAGE_SIM_RATE ?? 20_000)
const MEASURE_MS = Number(process.env.PAGE_MEASURE_MS ?? 3000)
const WARMUP_MS = 1000
/** the checkout whose page is the baseline (e.g. a built worktree of main); unset: the empty page is the only baseline */
const BASELINE_DIR = process.env.PAGE_BASELINE_DIR ?? ''
const VIEWPORT = { width: 1280, height: 800 }
/** the throttled variant's `?maxHz=`: each symbol at most this often, coalesced by the server (0 = no such rows) */
const MAX_HZ = Number(process.env.PAGE_MAX_HZ ?? 10)

interface Figures {
  gaps: number[]; frames: number; fps: number; meanFps: number; p50Ms: number; p95Ms: number; updatesPerSec: number; serverPerSec: number; symbols: number
  /** CPU the renderer's main thread used per frame, and the whole renderer (worker included) per second: load-independent */
  mainCpuMs: number; rendererCpuMs: number
}
interface Sample { stamps: number[]; events: number }

/**
 * Frame intervals from rAF timestamps over `ms`, measured inside the page (no round trip per frame), and the wire
 * events its client received in that window (`tickcast.stats.eventsIn`: the library's counter on the old page, the
 * worker's on the new one; absent on an empty page).
 */
const MEASURE_SCRIPT = `new Promise((done) => {
  const t = []
  const events = () => globalThis.tickcast?.stats.eventsIn ?? 0
  const start = performance.now(), e0 = events()
  const step = (now) => {
    t.push(now)
    if (now - start < MS) requestAnimationFrame(step)
    else done({ stamps: t, events: ((events() - e0) * 1000) / (performance.now() - start) })
  }
  requestAnimationFrame(step)
})`

function pct(sorted: number[], p: number): number { return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] }

const debug = (m: string): void => { if (process.env.PAGE_DEBUG) console.error(new Date().toISOString(), m) }

/**
 * CPU seconds so far of each Chromium renderer process: its main thread (whose tid is the pid) and all its threads.
 * The page's renderer is the one that used the most in a window (only one page is open at a time).
 */
function rendererCpu(): Map<number, { main: number; all: number }> {
  const out = new Map<number, { main: number; all: number }>()
  const ticks = (path: string): number => { const f = readFileSync(path, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100 }
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      if (!readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=renderer')) continue
      out.set(Number(p), { main: ticks(`/proc/${p}/task/${p}/stat`), all: ticks(`/proc/${p}/stat`) })
    } catch { /* gone meanwhile */ }
  }
  return out
}

function busiest(before: Map<number, { main: number; all: number }>, after: Map<number, { main: number; all: number }>): { main: number; all: number } {
  let best = { main: 0, all: 0 }
  for (const [pid, a] of after) {
    const b = before.get(pid) ?? { main: 0, all: 0 }
    if (a.all - b.all > best.all) best = { main: a.main - b.main, all: a.all - b.all }
  }
  return best
}

/** tickcast_ring_events_total: every event the server's ingest wrote, whoever reads it */
async function ringEvents(metricsUrl: string): Promise<number> {
  const m = /^tickcast_ring_events_total(?:\{[^}]*\})? (\S+)$/m.exec(await (await fetch(metricsUrl)).text())
  return m === null ? NaN : Number(m[1])
}

/** Trace categories for PAGE_TRACE: Blink's lifecycle phases, script, the compositor and the display compositor. */
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8', 'blink', 'cc', 'viz']
/** Main-thread events that do not nest in one another: where a frame's CPU goes (thread time, `tdur`). */
const MAIN_PHASES: [string, string[]][] = [['script', ['FunctionCall']], ['style', ['UpdateLayoutTree']], ['layout', ['Layout']],
  ['paint+layerize', ['LocalFrameView::RunPaintLifecyclePhase']], ['commit', ['Commit']], ['gc', ['MinorGC', 'MajorGC']]]

interface TraceEvent { ph: string; name: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number; args?: { name?: string } }

/**
 * A DevTools trace (Chrome DevTools Protocol tracing, all processes) of the measured window, as CPU per second of each
 * busy thread (its top-level tasks' thread time) and the page's main thread per frame by phase.
 */
function traceSummary(json: string, frames: number, sec: number): string {
  const ev = (JSON.parse(json) as { traceEvents: TraceEvent[] }).traceEvents
  const threads = new Map<string, string>(), procs = new Map<number, string>()
  for (const e of ev) {
    if (e.ph !== 'M') continue
    if (e.name === 'thread_name') threads.set(e.pid + ':' + e.tid, e.args?.name ?? '?')
    if (e.name === 'process_name') procs.set(e.pid, e.args?.name ?? '?')
  }
  const busy = new Map<string, number>(), end = new Map<string, number>(), phases = new Map<string, number>()
  let mainKey = ''
  for (const e of ev.filter((x) => x.ph === 'X' && x.tdur !== undefined).sort((a, b) => a.ts - b.ts)) {
    const k = e.pid + ':' + e.tid
    if (threads.get(k) === 'CrRendererMain' && procs.get(e.pid) === 'Renderer') {
      const phase = MAIN_PHASES.find(([, names]) => names.includes(e.name))
      if (phase !== undefined) { phases.set(phase[0], (phases.get(phase[0]) ?? 0) + (e.tdur ?? 0)); mainKey = k }
    }
    if (e.ts < (end.get(k) ?? 0)) continue // nested in a task already counted
    end.set(k, e.ts + (e.dur ?? 0)); busy.set(k, (busy.get(k) ?? 0) + (e.tdur ?? 0))
  }
  const top = [...busy].sort((a, b) => b[1] - a[1]).slice(0, 6)
    .map(([k, us]) => `${procs.get(Number(k.split(':')[0])) ?? '?'}/${threads.get(k) ?? '?'} ${(us / 1000 / sec).toFixed(0)}`)
  const main = (busy.get(mainKey) ?? 0) / 1000 / frames
  return `trace, CPU ms/s by thread: ${top.join(', ')}\n` +
    `trace, main thread ms/frame: ${main.toFixed(2)} of which ` + MAIN_PHASES.map(([n]) => `${n} ${((phases.get(n) ?? 0) / 1000 / frames).toFixed(2)}`).join(', ')
}

async function measure(browser: Browser, dir: string, query = '', trace = false): Promise<Figures> {
  const port = await freePort()
  const { child, match } = await spawnReady(process.execPath, [join(dir, 'dist/src/main.js'), '--port', String(port), '--metrics-port', '0',
    '--mqtt-url', 'none', '--log-level', 'warn', '--sim-rate', String(RATE)], /Metrics\s+(http:\/\/\S+)/)
  debug('tickcast up on ' + port)
  const page = await browser.newPage({ viewport: VIEWPORT })
  try {
    const all = await (await fetch(`http://127.0.0.1:${port}/v1/symbols`)).json() as string[]
    const names = all.slice(0, Number(process.env.PAGE_SYMBOLS ?? all.length)) // default: every symbol, so the page gets the whole rate
    await page.goto(`http://127.0.0.1:${port}/?format=${process.env.PAGE_FORMAT ?? 'json'}${query}&symbols=${names.join(',')}`)
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'open', undefined, { timeout: 10_000 })
    debug('page open')
    await page.waitForTimeout(WARMUP_MS)
    debug('measuring')
    const r0 = await ringEvents(match[1]), t0 = performance.now(), cpu0 = rendererCpu()
    if (trace) await browser.startTracing(page, { categories: TRACE_CATEGORIES })
    const { stamps, events } = await page.evaluate(MEASURE_SCRIPT.replace('MS', String(MEASURE_MS))) as Sample
    const cpu = busiest(cpu0, rendererCpu()), sec = (performance.now() - t0) / 1000
    const server = (await ringEvents(match[1]) - r0) / sec
    if (trace) console.log(traceSummary((await browser.stopTracing()).toString(), stamps.length - 1, MEASURE_MS / 1000))
    const f = figures(stamps.slice(1).map((t, i) => t - stamps[i]), Math.round(events), names.length, Math.round(server))
    f.mainCpuMs = (cpu.main * 1000) / Math.max(1, f.frames); f.rendererCpuMs = (cpu.all * 1000) / sec
    return f
  } finally {
    await page.close()
    await stop(child)
  }
}

/** An empty page under the same load: the frame rate no page can beat on this machine now (no server running). */
async function ceiling(browser: Browser): Promise<Figures> {
  const page = await browser.newPage({ viewport: VIEWPORT })
  try {
    await page.goto('about:blank')
    const { stamps } = await page.evaluate(MEASURE_SCRIPT.replace('MS', String(MEASURE_MS))) as Sample
    return figures(stamps.slice(1).map((t, i) => t - stamps[i]), 0, 0, 0)
  } finally {
    await page.close()
  }
}

function figures(gaps: number[], updatesPerSec: number, symbols: number, serverPerSec: number): Figures {
  const sorted = [...gaps].sort((a, b) => a - b), p50 = pct(sorted, 0.5)
  return { gaps, frames: gaps.length, fps: 1000 / p50, meanFps: (1000 * gaps.length) / gaps.reduce((a, b) => a + b, 0), p50Ms: p50, p95Ms: pct(sorted, 0.95), updatesPerSec, serverPerSec, symbols, mainCpuMs: NaN, rendererCpuMs: NaN }
}

/** Both rounds of one side pooled: frame gaps together, updates/s averaged. */
function pooled(a: Figures, b: Figures): Figures {
  const f = figures([...a.gaps, ...b.gaps], Math.round((a.updatesPerSec + b.updatesPerSec) / 2), a.symbols, Math.round((a.serverPerSec + b.serverPerSec) / 2))
  f.mainCpuMs = (a.mainCpuMs * a.frames + b.mainCpuMs * b.frames) / Math.max(1, a.frames + b.frames)
  f.rendererCpuMs = (a.rendererCpuMs + b.rendererCpuMs) / 2
  return f
}

function row(name: string, f: Figures): string {
  return `${name.padEnd(9)} fps median ${f.fps.toFixed(1).padStart(5)} mean ${f.meanFps.toFixed(1).padStart(5)}  p50 ${f.p50Ms.toFixed(1).padStart(6)} ms  p95 ${f.p95Ms.toFixed(1).padStart(6)} ms  ` +
    `frames ${String(f.frames).padStart(4)} in ${MEASURE_MS} ms  events/s: server ingest ${f.serverPerSec}, page received ${f.updatesPerSec}  ` +
    (Number.isNaN(f.mainCpuMs) ? '' : `CPU: main thread ${f.mainCpuMs.toFixed(1)} ms/frame, renderer ${f.rendererCpuMs.toFixed(0)} ms/s  `) + `symbols ${f.symbols}`
}

async function main(): Promise<void> {
  const executablePath = chromiumPath()
  if (executablePath === null) throw new Error('bench:page needs Chromium: install it (apt-get install chromium) or set $CHROMIUM')
  if (BASELINE_DIR !== '' && !existsSync(join(BASELINE_DIR, 'dist/src/main.js'))) {
    throw new Error(`PAGE_BASELINE_DIR=${BASELINE_DIR} has no dist/src/main.js: build that checkout first (npm ci && npm run build), or unset it`)
  }
  // software raster, as on a machine without a GPU: the case the page must keep up in
  const browser = await chromium.launch({ executablePath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'] })
  try {
    console.log(`live page at --sim-rate ${RATE}, headless Chromium --disable-gpu, viewport ${VIEWPORT.width}x${VIEWPORT.height}, ${MEASURE_MS} ms after ${WARMUP_MS} ms warm-up`)
    console.log(`(events/s: the server's ingest (tickcast_ring_events_total) and the wire events the page's client took in, over the window)`)
    const c1 = await ceiling(browser); console.log(row('empty #1', c1))
    // PAGE_TRACE=1: this page once more under a DevTools trace (tracing costs CPU itself: its fps are not comparable)
    if (process.env.PAGE_TRACE) { console.log(row('traced', await measure(browser, resolve('.'), '', true))); if (BASELINE_DIR !== '') console.log(row('traced base', await measure(browser, BASELINE_DIR, '', true))); return }
    // ABBA order, so drift in a shared machine's load weighs on both sides alike; rounds are pooled per side
    const a1 = await measure(browser, resolve('.')); console.log(row('this #1', a1))
    let base: Figures | null = null
    if (BASELINE_DIR !== '') {
      const b1 = await measure(browser, BASELINE_DIR); console.log(row('base #1', b1))
      const b2 = await measure(browser, BASELINE_DIR); console.log(row('base #2', b2))
      base = pooled(b1, b2)
    }
    const a2 = await measure(browser, resolve('.')); console.log(row('this #2', a2))
    // this page again, subscribed with ?maxHz: the server coalesces each symbol to MAX_HZ/s (a view for a person)
    let h: Figures | null = null
    if (MAX_HZ > 0) {
      const h1 = await measure(browser, resolve('.'), `&maxHz=${MAX_HZ}`); console.log(row(`${MAX_HZ}Hz #1`, h1))
      const h2 = await measure(browser, resolve('.'), `&maxHz=${MAX_HZ}`); console.log(row(`${MAX_HZ}Hz #2`, h2))
      h = pooled(h1, h2)
    }
    const c2 = await ceiling(browser); console.log(row('empty #2', c2))
    const current = pooled(a1, a2), empty = pooled(c1, c2)
    console.log(row('this', current) + '  (every update)')
    if (base !== null) console.log(row('baseline', base) + `  (${BASELINE_DIR})`)
    if (h !== null) console.log(row(`this ${MAX_HZ}Hz`, h) + `  (?maxHz=${MAX_HZ}: each symbol coalesced by the server to ≤ ${MAX_HZ}/s)`)
    console.log(row('empty', empty) + '  (about:blank: the ceiling under this load)')
    if (base !== null) {
      const ratio = (name: string, f: Figures, b: Figures): string => `${name} ${(f.fps / b.fps).toFixed(2)}x fps median, ${(f.meanFps / b.meanFps).toFixed(2)}x mean, ` +
        `p95 frame ${(b.p95Ms / f.p95Ms).toFixed(2)}x shorter, main-thread CPU per frame ${(b.mainCpuMs / f.mainCpuMs).toFixed(2)}x less`
      console.log('ratio vs baseline: ' + ratio('this', current, base) + (h !== null ? '; ' + ratio(`${MAX_HZ}Hz`, h, base) : ''))
    }
    // the empty page has no client or worker: its CPU is not a baseline, its frame rate and frame times are
    const toCeiling = (name: string, f: Figures): string => `${name} ${(f.fps / empty.fps).toFixed(2)}x its fps median, p95 frame ${(f.p95Ms / empty.p95Ms).toFixed(2)}x its`
    console.log('ratio vs the empty page: ' + toCeiling('this', current) + (h !== null ? '; ' + toCeiling(`${MAX_HZ}Hz`, h) : ''))
  } finally {
    await browser.close()
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1 })
