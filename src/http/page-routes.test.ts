// The page routes on a real tickcast: the page, the client library as loadable ES modules, the AsyncAPI document.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { PAGE_ROUTES, WITH_PAGE, simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { BootError } from '../errors.js'
import { registerPageRoutes } from './page-routes.js'
import { CSP_NONE, CSP_WORKER } from './security-headers.js'
import type * as ClientLib from '../client/tickcast-client.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('registerPageRoutes', () => {
  it('serves the page, the client modules (valid ESM that runs in Node) and asyncapi.json; nothing else', async () => {
    const sim = await simulator(running, 100)
    const t = await tickcast(running, sim.port, WITH_PAGE)
    const base = `http://127.0.0.1:${t.port}`
    const page = await fetch(base + '/')
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<script type="module" src="/client/page/live-page.js">')

    // write what the browser would load into a directory and import it: proves it is plain, runnable ESM
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-client-'))
    running.push({ stop: async () => rmSync(dir, { recursive: true, force: true }) })
    mkdirSync(join(dir, 'client'))
    for (const path of ['/client.js', '/client/tickcast-client.js', '/client/msgpack-decode.js', '/client/symbol-state.js', '/client/decimal.js', '/client/client-auth.js', '/client/pings.js', '/client/resume-plan.js']) {
      const r = await fetch(base + path)
      expect(r.status, path).toBe(200)
      expect(r.headers.get('content-type'), path).toBe('text/javascript; charset=utf-8')
      // tsc's sourceMappingURL points at maps that are not served (nor copied here): drop it so Node does not look
      const body = (await r.text()).replaceAll('.js\'', '.mjs\'').replace(/^\/\/# sourceMappingURL=.*$/m, '')
      writeFileSync(join(dir, path.replace(/^\//, '').replace(/\.js$/, '.mjs')), body)
    }
    const lib = await import(pathToFileURL(join(dir, 'client.mjs')).href) as typeof ClientLib
    expect(lib.scaledToNumber(12345, -8)).toBe(0.00012345)
    expect(() => new lib.TickcastClient({ url: 'ws://x', WebSocket: undefined })).toThrow(/no WebSocket implementation/)

    const doc = await fetch(base + '/asyncapi.json')
    expect(doc.headers.get('content-type')).toBe('application/json')
    expect(await doc.json()).toEqual(JSON.parse(readFileSync(new URL('../../asyncapi.json', import.meta.url), 'utf8')))

    // the page's own module, its feed worker and what that imports through a relative path (../tickcast-client.js)
    // all load; the worker runs under its script's policy, so it alone may import and connect (same origin only)
    const pageModule = await fetch(base + '/client/page/live-page.js')
    expect(pageModule.status).toBe(200)
    expect(pageModule.headers.get('content-security-policy')).toBe(CSP_NONE)
    expect(await pageModule.text()).toContain("new URL('./feed-worker.js', import.meta.url)")
    const worker = await fetch(base + '/client/page/feed-worker.js')
    expect(worker.status).toBe(200)
    expect(worker.headers.get('content-security-policy')).toBe(CSP_WORKER)
    expect(CSP_WORKER).toMatch(/default-src 'none'; script-src 'self'; connect-src 'self';/)
    expect(await worker.text()).toContain("from '../tickcast-client.js'")

    for (const path of ['/client/tickcast-client.test.js', '/client/../server.js', '/client/%2e%2e/server.js', '/client/page/nope.js',
      '/page/live-page.js', '/client/test-support/harness.js', '/client/tickcast-client.js.map', '/client/tickcast-client.ts']) {
      expect((await fetch(base + path)).status, path).toBe(404)
    }
    expect((await fetch(base + '/v1/symbols')).status).toBe(200) // the server's own routes still answer
  })

  it('refuses to register without the compiled client directory (a boot error, not a page of 404s)', () => {
    const app = { get() { return app } } as unknown as Parameters<typeof registerPageRoutes>[0]
    let err: unknown = null
    try { registerPageRoutes(app, { ...PAGE_ROUTES, clientDir: join(tmpdir(), 'tickcast-no-such-client-dir') }) } catch (e) { err = e }
    expect(err).toBeInstanceOf(BootError)
    expect(err).toMatchObject({ code: 'CLIENT_DIR' })
  })
})
