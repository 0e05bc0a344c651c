// Owns finding and starting the real headless Chromium the browser tests use (Debian's package; CHROMIUM_PATH overrides).
// Must never let CI skip a browser test: without chromium a test module throws under CI and only warns outside it.
import { execSync } from 'node:child_process'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'

/** Software raster, no sandbox (root in CI), no background traffic: what every browser test here runs with. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking']

export function chromiumPath(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH
  try { return execSync('command -v chromium', { encoding: 'utf8', shell: '/bin/sh' }).trim() || null } catch { return null }
}

/** The executable, or null (with a loud warning naming `what` is skipped) outside CI; throws in CI. */
export function requireChromium(what: string): string | null {
  const path = chromiumPath()
  if (path !== null) return path
  if (process.env.CI) throw new Error('chromium is required in CI (installed by .ci/run)')
  console.warn(`\n*** SKIPPING ${what}: \`chromium\` is not installed (CI always runs it) ***\n`)
  return null
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS })
}

/**
 * One browser for a test file, launched before its tests and closed after them (the hooks are registered here).
 * `executablePath` is what requireChromium gave: the file's describe.skipIf reads it.
 */
export function sharedBrowser(what: string): { executablePath: string | null; browser(): Browser } {
  const executablePath = requireChromium(what)
  let browser: Browser | null = null
  beforeAll(async () => { if (executablePath !== null) browser = await launchChromium(executablePath) })
  afterAll(async () => { await browser?.close() })
  return { executablePath, browser: () => { if (browser === null) throw new Error('Chromium was not launched'); return browser } }
}
