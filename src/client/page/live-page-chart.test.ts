// The live page's chart in real Chromium: clicking a row charts that symbol, and the canvas gets ink from its quotes.
// Asserts drawing happened (pixels), not how it looks: the screenshot in live-page.test.ts is for people.
import type { Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { WITH_PAGE, simulator, stopAll, tickcast } from '../../../test-support/harness.js'
import type { Stoppable } from '../../../test-support/harness.js'
import { sharedBrowser } from '../../../test-support/chromium.js'
import { waitFor } from '../../../test-support/wait-for.js'

const chromium = sharedBrowser('the live-page chart test'), executablePath = chromium.executablePath

const running: Stoppable[] = []
afterEach(() => stopAll(running))

/** Pixels of the chart's canvas with any ink (it is cleared to transparent before each draw). */
function inkedPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.getElementById('chart') as HTMLCanvasElement
    const data = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data
    let n = 0
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++
    return n
  })
}

describe.skipIf(executablePath === null)('live page chart in Chromium', () => {
  it('charts the clicked row\'s symbol: its name above the canvas and ink on it', async () => {
    const sim = await simulator(running, 400, 3)
    const t = await tickcast(running, sim.port, WITH_PAGE)
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const syms = t.symbols.name.slice(0, 3)
    const page = await chromium.browser().newPage({ viewport: { width: 1180, height: 560 } })
    running.push({ stop: () => page.close() })
    await page.goto(`http://127.0.0.1:${t.port}/?symbols=${syms.join(',')}`)
    await page.waitForFunction((n) => document.querySelectorAll('#rows tr:not(.wait)').length === n, syms.length, { timeout: 5000 })
    // the first symbol is charted until a person picks another
    expect(await page.textContent('#chart-symbol')).toBe(syms[0])

    await page.click(`#rows tr[data-symbol="${syms[1]}"] td.c-bid`)
    expect(await page.textContent('#chart-symbol')).toBe(syms[1])
    expect(await page.getAttribute(`#rows tr[data-symbol="${syms[1]}"]`, 'aria-current')).toBe('true')
    expect(await page.getAttribute(`#rows tr[data-symbol="${syms[0]}"]`, 'aria-current')).toBeNull()
    // its quotes keep coming: lines, the spread and labels are drawn (a bounded wait)
    const deadline = Date.now() + 5000
    let ink = 0
    while ((ink = await inkedPixels(page)) < 500 && Date.now() < deadline) await page.waitForTimeout(100)
    expect(ink).toBeGreaterThanOrEqual(500)

    // removing the charted symbol charts the next one rather than a stale series
    await page.click(`#rows tr[data-symbol="${syms[1]}"] td.c-x button`)
    await page.waitForFunction((s) => document.getElementById('chart-symbol')?.textContent === s, syms[0], { timeout: 3000 })
  })
})
