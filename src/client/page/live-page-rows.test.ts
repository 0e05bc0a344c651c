// The live page's row window in real Chromium: only the rows in view exist (their numbers inked on the grid canvas), scrolling brings others in drawn and
// correct, a removed symbol's row goes and the rest close up. Asserts what a person would see, not timing.
import type { Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { WITH_PAGE, simulator, stopAll, tickcast } from '../../../test-support/harness.js'
import type { Stoppable } from '../../../test-support/harness.js'
import { sharedBrowser } from '../../../test-support/chromium.js'
import { waitFor } from '../../../test-support/wait-for.js'

const chromium = sharedBrowser('the live-page row window test'), executablePath = chromium.executablePath

const running: Stoppable[] = []
afterEach(() => stopAll(running))

/** Symbols of the row elements that exist, in document order, and whether each shows a bid. */
function shownRows(page: Page): Promise<{ sym: string; bid: string }[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll<HTMLTableRowElement>('#rows tr')).map((tr) => ({
    sym: tr.dataset.symbol ?? '', bid: tr.querySelector('td.c-bid')?.textContent ?? '' })))
}

describe.skipIf(executablePath === null)('live page row window in Chromium', () => {
  it('holds rows only for the symbols in view; scrolling shows the others drawn; removal closes the gap', async () => {
    const sim = await simulator(running, 400, 13)
    const t = await tickcast(running, sim.port, WITH_PAGE)
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const syms = t.symbols.name.slice(0, 30)
    const page = await chromium.browser().newPage({ viewport: { width: 1180, height: 560 } })
    running.push({ stop: () => page.close() })
    await page.goto(`http://127.0.0.1:${t.port}/?symbols=${syms.join(',')}`)
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'open', undefined, { timeout: 5000 })
    expect(await page.textContent('#count')).toBe('30')
    // the first rows, in order, drawn; far fewer than 30 elements; the table is as tall as 30 rows
    await page.waitForFunction(() => document.querySelector('#rows tr:not(.wait)') !== null, undefined, { timeout: 5000 })
    let rows = await shownRows(page)
    expect(rows.length).toBeGreaterThanOrEqual(10)
    expect(rows.length).toBeLessThan(30)
    expect(rows.map((r) => r.sym)).toEqual(syms.slice(0, rows.length))
    expect(await page.evaluate(() => document.getElementById('rows')!.getBoundingClientRect().height)).toBe(30 * 31)
    // the numbers a person sees are drawn on the grid canvas behind the rows: ink in every shown row's band
    await page.waitForFunction((n) => {
      const c = document.getElementById('grid') as HTMLCanvasElement, ctx = c.getContext('2d') as CanvasRenderingContext2D
      for (let r = 0; r < n; r++) {
        const data = ctx.getImageData(0, r * 31, c.width, 30).data
        let ink = 0
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) ink++
        if (ink < 100) return false
      }
      return true
    }, rows.length, { timeout: 5000 })

    // to the bottom: the last symbols get rows (reused), drawn with prices
    await page.evaluate(() => { scrollTo(0, document.body.scrollHeight) })
    await page.waitForFunction((last) => {
      const tr = document.querySelector<HTMLTableRowElement>(`#rows tr[data-symbol="${last}"]`)
      return tr !== null && !tr.classList.contains('wait') && tr.querySelector('td.c-bid')?.textContent !== ''
    }, syms[29], { timeout: 5000 })
    rows = await shownRows(page)
    expect(rows.length).toBeLessThan(30)
    const from = syms.indexOf(rows[0].sym)
    expect(rows.map((r) => r.sym)).toEqual(syms.slice(from, from + rows.length))
    expect(rows[rows.length - 1].sym).toBe(syms[29])
    // the row a person sees at the bottom of the window is the last symbol, where the full table would have it
    const lastTop = await page.evaluate((last) => document.querySelector(`#rows tr[data-symbol="${last}"]`)!.getBoundingClientRect().top
      - document.getElementById('rows')!.getBoundingClientRect().top, syms[29])
    expect(lastTop).toBe(29 * 31)

    // back to the top and remove the second symbol: the third moves up into its place
    await page.evaluate(() => { scrollTo(0, 0) })
    await page.waitForFunction((first) => document.querySelector('#rows tr')?.getAttribute('data-symbol') === first, syms[0], { timeout: 5000 })
    await page.click(`#rows tr[data-symbol="${syms[1]}"] td.c-x button`)
    await page.waitForFunction((s) => document.querySelectorAll('#rows tr')[1]?.getAttribute('data-symbol') === s, syms[2], { timeout: 5000 })
    expect(await page.textContent('#count')).toBe('29')
    expect((await shownRows(page)).some((r) => r.sym === syms[1])).toBe(false)
  })
})
