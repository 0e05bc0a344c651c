// Owns rendering a report's charts to PNG files with headless Chromium (for README images, CI artifacts).
// Must never leave a browser running: it is closed in finally, whatever the page did.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type * as Playwright from 'playwright-core'

/** $CHROMIUM or $CHROMIUM_PATH, else `chromium` on the PATH, else /usr/bin/chromium; null when none exists. */
export function chromiumPath(): string | null {
  const env = process.env.CHROMIUM ?? process.env.CHROMIUM_PATH
  if (env) return env
  try { const p = execFileSync('/bin/sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim(); if (p) return p } catch { /* none on PATH */ }
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null
}

/**
 * Opens the report HTML and screenshots each chart box to `<dir>/<chart>.png`; returns the files written.
 * playwright-core is loaded here only: the rest of the CLI runs without it.
 */
export async function renderPngs(html: string, dir: string): Promise<string[]> {
  const executablePath = chromiumPath()
  if (executablePath === null) throw new Error('--png needs Chromium: install it (apt-get install chromium) or set $CHROMIUM')
  let pw: typeof Playwright
  try { pw = await import('playwright-core') } catch { throw new Error('--png needs playwright-core: npm install playwright-core') }
  const browser = await pw.chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } })
    await page.setContent(html, { waitUntil: 'load' })
    await page.waitForFunction(() => typeof (window as unknown as { __chartsDrawn?: number }).__chartsDrawn === 'number', undefined, { timeout: 10_000 })
    const files: string[] = []
    for (const box of await page.locator('.chart').all()) {
      const id = (await box.getAttribute('id'))!.replace(/^box-/, '')
      const file = join(dir, `${id}.png`)
      await box.screenshot({ path: file })
      files.push(file)
    }
    return files
  } finally { await browser.close() }
}
