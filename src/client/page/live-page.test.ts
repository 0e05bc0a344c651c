// The live page in real Chromium, served by tickcast itself: prices match the REST snapshot, recovery after a restart.
import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { sharedBrowser } from '../../../test-support/chromium.js'
import { sleep, waitFor } from '../../../test-support/wait-for.js'
import { WITH_PAGE, restSnapshot, simulator, stopAll, tickcast } from '../../../test-support/harness.js'
import type { Stoppable } from '../../../test-support/harness.js'
import { startTcpProxy } from '../../../test-support/tcp-proxy.js'
import type { Tickcast } from '../../server.js'

const chromium = sharedBrowser('the live-page browser test'), executablePath = chromium.executablePath

const running: Stoppable[] = []
afterEach(() => stopAll(running))

interface RowText { sym: string; cells: string[] }
function readRows(page: Page): Promise<RowText[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll<HTMLTableRowElement>('#rows tr')).map((tr) => ({
    sym: tr.dataset.symbol ?? '', cells: Array.from(tr.children).map((td) => td.textContent ?? ''),
  })))
}

const num = (text: string): number | null => (text === '–' ? null : Number(text))

/** What the page shows for `sym`, as the REST snapshot's fields. */
function shown(rows: RowText[], sym: string): Record<string, number | null> {
  const r = rows.find((x) => x.sym === sym)
  if (!r) throw new Error('no row for ' + sym)
  return { bp: num(r.cells[1]), ap: num(r.cells[2]), bs: num(r.cells[3]), as: num(r.cells[4]), p: num(r.cells[5]) }
}

/** Polls until every symbol's row equals the server's REST snapshot exactly (the market is frozen first). */
async function expectPageMatchesServer(page: Page, t: Tickcast, syms: readonly string[]): Promise<void> {
  const deadline = Date.now() + 4000
  for (;;) {
    const rows = await readRows(page)
    const want: Record<string, Record<string, number | null>> = {}, got: typeof want = {}
    for (const s of syms) {
      const ref = await restSnapshot(t.port, s)
      want[s] = { bp: ref.bp, ap: ref.ap, bs: ref.bs, as: ref.as, p: ref.p }
      got[s] = shown(rows, s)
    }
    if (JSON.stringify(got) === JSON.stringify(want) || Date.now() > deadline) { expect(got).toEqual(want); return }
    await sleep(50)
  }
}

describe.skipIf(executablePath === null)('live page in Chromium', () => {
  it('shows the server\'s prices for the symbols it subscribes to, keeps updating, and recovers after a restart', async () => {
    const sim1 = await simulator(running, 200, 7)
    const t1 = await tickcast(running, sim1.port, WITH_PAGE, ['--node-name', 'node-one'])
    await waitFor(() => t1.symbols.size === 30, 5000, 'the directory')
    // The page connects to its own origin; uWS cannot re-bind a served port for ~60 s, so that origin is a
    // fixed proxy in front of tickcast (as a load balancer would be) and the restarted server sits behind it.
    const proxy = await startTcpProxy(t1.port)
    running.push({ stop: () => proxy.close() })
    const syms = t1.symbols.name.slice(0, 3)
    const page = await chromium.browser().newPage({ viewport: { width: 1180, height: 560 } })
    running.push({ stop: () => page.close() })
    const states: string[] = []
    await page.exposeFunction('recordState', (s: string) => { states.push(s) })
    await page.goto(`http://127.0.0.1:${proxy.port}/?symbols=${syms[0]},${syms[1]}`)
    // the third symbol and an unknown one through the add box, like a user
    await page.fill('#symbol-input', `${syms[2]}, ZZZZ9`)
    await page.press('#symbol-input', 'Enter')
    await page.waitForFunction((n) => document.querySelectorAll('#rows tr:not(.wait)').length === n
      && !document.querySelector('#rows tr[data-symbol="ZZZZ9"]'), 3, { timeout: 5000 })
    // each row says which of the server's feeds its symbol comes from (the snapshot's feed)
    expect(await page.evaluate(() => Array.from(document.querySelectorAll<HTMLTableRowElement>('#rows tr')).map((tr) => tr.title)))
      .toEqual(['feed sim', 'feed sim', 'feed sim'])
    expect(await page.textContent('#message')).toBe('UNKNOWN_SYMBOL: ZZZZ9')
    // the header names the node serving the page (its acks' `node`): behind a load balancer, which one this is
    await page.waitForFunction(() => document.getElementById('node')?.textContent === 'node-one', undefined, { timeout: 5000 })
    // the documented browser entry point of the library loads as a module too
    // (a string: vitest would rewrite an import() inside a function it transforms)
    expect(await page.evaluate("import('/client.js').then((lib) => lib.TickcastClient.name)")).toBe('TickcastClient')
    await page.evaluate(() => {
      const c = (globalThis as unknown as { tickcast: { on(t: string, h: (s: string) => void): void } }).tickcast
      c.on('state', (s) => { (globalThis as unknown as { recordState(s: string): void }).recordState(s) })
    })

    // keeps updating: the table text changes while the simulator runs
    const before = JSON.stringify(await readRows(page))
    const changed = await page.waitForFunction((b) => {
      const now = Array.from(document.querySelectorAll<HTMLTableRowElement>('#rows tr')).map((tr) => ({
        sym: tr.dataset.symbol ?? '', cells: Array.from(tr.children).map((td) => td.textContent ?? '') }))
      return JSON.stringify(now) !== b
    }, before, { timeout: 5000 })
    expect(await changed.jsonValue()).toBe(true)

    await sim1.stop(0) // freeze the market: the page must show exactly the server's last values
    await expectPageMatchesServer(page, t1, syms)

    await t1.stop()
    const sim2 = await simulator(running, 200, 99)
    const t2 = await tickcast(running, sim2.port, WITH_PAGE, ['--node-name', 'node-two'])
    await waitFor(() => t2.symbols.size === 30, 5000, 'the new directory')
    proxy.retarget(t2.port)
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'open', undefined, { timeout: 8000 })
    expect(states).toContain('reconnecting')
    expect(states[states.length - 1]).toBe('open')
    await page.waitForFunction(() => document.getElementById('node')?.textContent === 'node-two', undefined, { timeout: 5000 })
    await sleep(400)
    await sim2.stop(0)
    await expectPageMatchesServer(page, t2, syms) // a different seed: stale values from t1 would not match

    // a screenshot with the default symbol list (first 10 from /v1/symbols) for the README
    const sim3 = await simulator(running, 400, 5)
    const t3 = await tickcast(running, sim3.port, WITH_PAGE)
    await waitFor(() => t3.symbols.size === 30, 5000, 'the third directory')
    const shot = await chromium.browser().newPage({ viewport: { width: 1180, height: 560 } })
    running.push({ stop: () => shot.close() })
    await shot.goto(`http://127.0.0.1:${t3.port}/`)
    await shot.waitForFunction(() => document.querySelectorAll('#rows tr:not(.wait)').length === 10, undefined, { timeout: 5000 })
    await sleep(1200) // one updates/s window
    mkdirSync('test-artifacts', { recursive: true })
    await shot.screenshot({ path: 'test-artifacts/page.png' })
  }, 60_000) // three servers, a restart and two browser pages: ~27-31 s on a loaded 2-core machine, over vitest's 30 s
})
