// The live page under its own Content-Security-Policy in real Chromium: it loads, subscribes, updates and takes input
// with no violation reported, while the same listener does report one when something inline is injected.
import { afterEach, describe, expect, it } from 'vitest'
import { WITH_PAGE, simulator, stopAll, tickcast } from '../../../test-support/harness.js'
import type { Stoppable } from '../../../test-support/harness.js'
import { sharedBrowser } from '../../../test-support/chromium.js'
import { waitFor } from '../../../test-support/wait-for.js'

const chromium = sharedBrowser('the live-page CSP test'), executablePath = chromium.executablePath

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe.skipIf(executablePath === null)('live page under its CSP', () => {
  it('works with no CSP violation; an injected inline style is reported (the check can see one)', async () => {
    const sim = await simulator(running, 200, 11)
    const t = await tickcast(running, sim.port, WITH_PAGE)
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const page = await chromium.browser().newPage()
    running.push({ stop: () => page.close() })
    const violations: string[] = [], consoleCsp: string[] = []
    await page.exposeFunction('reportViolation', (v: string) => { violations.push(v) })
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (globalThis as unknown as { reportViolation(v: string): void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`)
      })
    })
    page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) consoleCsp.push(m.text()) })

    const resp = await page.goto(`http://127.0.0.1:${t.port}/?symbols=${t.symbols.name[0]}`)
    expect(resp?.headers()['content-security-policy']).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self' 'sha256-/)
    // the module ran (rows), the WebSocket connected (connect-src 'self' covers ws:), styles applied (the hashed <style>)
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'open', undefined, { timeout: 5000 })
    await page.fill('#symbol-input', t.symbols.name[1])
    await page.press('#symbol-input', 'Enter') // the form's submit: handled in script, never submitted (form-action 'none')
    await page.waitForFunction(() => document.querySelectorAll('#rows tr:not(.wait)').length === 2, undefined, { timeout: 5000 })
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(15, 20, 25)') // --bg
    expect(await page.evaluate("import('/client.js').then((lib) => lib.TickcastClient.name)")).toBe('TickcastClient')
    await page.waitForTimeout(300)
    expect(violations).toEqual([])
    expect(consoleCsp).toEqual([])

    // negative control: an inline style attribute is refused and reported by the same listener
    await page.evaluate(() => { document.body.insertAdjacentHTML('beforeend', '<div id="injected" style="color: red">x</div>') })
    await waitFor(() => violations.length > 0, 3000, 'a reported violation')
    expect(violations[0]).toMatch(/^style-src/)
    expect(await page.evaluate(() => getComputedStyle(document.getElementById('injected')!).color)).not.toBe('rgb(255, 0, 0)')
  })
})
