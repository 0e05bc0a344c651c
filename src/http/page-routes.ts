// Owns the browser-facing static routes: the live page (/), the compiled client modules (/client/…), /asyncapi.json.
// Must never serve a path it did not list at registration (no traversal), nor import or compile the client itself.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type * as uWS from 'uWebSockets.js'
import { BootError } from '../errors.js'
import { getAndHead } from './head-requests.js'
import { CSP_WORKER, documentCsp, secureHeaders } from './security-headers.js'
import { sendBody } from './send-body.js'

/**
 * Everything comes from the caller (main.ts, the composition root): this module never imports src/client/, so the
 * server does not depend on the browser deliverable, and it serves the same compiled files in tests and production.
 * Plain data, so fan-out worker threads receive the same options in their worker data.
 */
export interface PageRouteOptions {
  /** the compiled browser deliverable (dist/src/client): its ES modules are served under /client/ */
  clientDir: string
  /** the live page's document, served at / */
  pageHtml: string
  /** the AsyncAPI document, served at /asyncapi.json */
  asyncapiPath: string
}

/**
 * Module URLs mirror the folder: `/client/<name>.js`, `/client/page/<name>.js`, so the relative imports tsc leaves
 * in place (`../tickcast-client.js`) resolve in the browser too. `/client.js` is a one-line entry re-exporting the
 * library, for `import { TickcastClient } from '/client.js'`.
 */
const MODULE_NAME = /^[a-z0-9-]+\.js$/
const DIR_NAME = /^[a-z0-9-]+$/
/** test helpers may sit beside the client sources: never part of what a browser loads */
const SKIPPED_DIRS = new Set(['test-support'])
const JS_TYPE = 'text/javascript; charset=utf-8'
/** a module a page starts as a dedicated Worker: served with the policy it needs to run (CSP_WORKER) */
const WORKER_MODULE = /-worker\.js$/
export const CLIENT_ENTRY = "export * from './client/tickcast-client.js'\n"

/** URL path → file, for every module under `dir` (tests and declaration files excluded). */
function listModules(dir: string, urlPrefix: string, out: Map<string, string>): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (MODULE_NAME.test(name) && !name.includes('.test.')) out.set(urlPrefix + name, path)
    else if (DIR_NAME.test(name) && !SKIPPED_DIRS.has(name) && statSync(path).isDirectory()) listModules(path, urlPrefix + name + '/', out)
  }
}

/** Bodies are Buffers made once: streamed as the peer reads (send-body.ts), never copied per request. */
function send(res: uWS.HttpResponse, type: string, body: Buffer, csp?: string): void {
  sendBody(res, '200 OK', [['Content-Type', type], ['Cache-Control', 'no-cache']], body, csp)
}

function notFound(res: uWS.HttpResponse): void {
  secureHeaders(res.writeStatus('404 Not Found')).writeHeader('Content-Type', 'application/json').end('{"error":"NOT_FOUND"}')
}

/**
 * Registers `/`, `/client.js`, `/client/**.js` and `/asyncapi.json` on the server's uWS app. Files are read once,
 * on first request. A missing clientDir is a boot error (the build did not run), not a page that 404s.
 */
export function registerPageRoutes(app: uWS.TemplatedApp, opts: PageRouteOptions): void {
  const served = new Map<string, string>(), cache = new Map<string, Buffer>()
  try {
    listModules(opts.clientDir, '/client/', served)
  } catch (e) {
    throw new BootError('CLIENT_DIR', `cannot list the compiled client modules in ${opts.clientDir} (run \`npm run build\`): ${(e as Error).message}`)
  }
  const pageHtml = Buffer.from(opts.pageHtml), asyncapiPath = opts.asyncapiPath, entry = Buffer.from(CLIENT_ENTRY)
  const pageCsp = documentCsp(opts.pageHtml) // hashes of its inline style, once

  const serveFile = (res: uWS.HttpResponse, url: string, file: string, type: string, csp?: string): void => {
    let body = cache.get(url)
    if (body === undefined) {
      try { body = readFileSync(file) } catch { notFound(res); return }
      cache.set(url, body)
    }
    send(res, type, body, csp)
  }

  getAndHead(app, '/', (res) => { send(res, 'text/html; charset=utf-8', pageHtml, pageCsp) })
  getAndHead(app, '/client.js', (res) => { send(res, JS_TYPE, entry) })
  getAndHead(app, '/client/*', (res, req) => {
    const url = req.getUrl(), file = served.get(url)
    if (file === undefined) notFound(res)
    else serveFile(res, url, file, JS_TYPE, WORKER_MODULE.test(url) ? CSP_WORKER : undefined)
  })
  getAndHead(app, '/asyncapi.json', (res) => { serveFile(res, '/asyncapi.json', asyncapiPath, 'application/json') })
}
