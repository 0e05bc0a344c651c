// The page routes on a real tickcast: the page, the client library as loadable ES modules, the AsyncAPI document.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { registerPageRoutes } from './page-routes.js'
import type * as ClientLib from '../client/tickcast-client.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('registerPageRoutes', () => {
  it('serves the page, the client modules (valid ESM that runs in Node) and asyncapi.json; nothing else', async () => {
    const sim = await simulator(running, 100)
    const t = await tickcast(running, sim.port, { extraRoutes: (app) => registerPageRoutes(app) })
    const base = `http://127.0.0.1:${t.port}`
    const page = await fetch(base + '/')
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<script type="module" src="/page/live-page.js">')

    // write what the browser would load into a directory and import it: proves it is plain, runnable ESM
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-client-'))
    running.push({ stop: async () => rmSync(dir, { recursive: true, force: true }) })
    mkdirSync(join(dir, 'client'))
    for (const path of ['/client.js', '/client/tickcast-client.js', '/client/msgpack-decode.js', '/client/symbol-state.js', '/client/decimal.js']) {
      const r = await fetch(base + path)
      expect(r.status, path).toBe(200)
      expect(r.headers.get('content-type'), path).toBe('text/javascript; charset=utf-8')
      writeFileSync(join(dir, path.replace(/^\//, '').replace(/\.js$/, '.mjs')), (await r.text()).replaceAll('.js\'', '.mjs\''))
    }
    const lib = await import(pathToFileURL(join(dir, 'client.mjs')).href) as typeof ClientLib
    expect(lib.scaledToNumber(12345, -8)).toBe(0.00012345)
    expect(() => new lib.TickcastClient({ url: 'ws://x', WebSocket: undefined })).toThrow(/no WebSocket implementation/)

    const doc = await fetch(base + '/asyncapi.json')
    expect(doc.headers.get('content-type')).toBe('application/json')
    expect(await doc.json()).toEqual(JSON.parse(readFileSync(new URL('../../asyncapi.json', import.meta.url), 'utf8')))

    for (const path of ['/client/tickcast-client.test.js', '/client/../server.js', '/client/%2e%2e/server.js', '/page/nope.js', '/client/test-support/harness.js']) {
      expect((await fetch(base + path)).status, path).toBe(404)
    }
    expect((await fetch(base + '/v1/symbols')).status).toBe(200) // the server's own routes still answer
  })
})
