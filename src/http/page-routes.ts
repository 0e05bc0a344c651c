// Owns the browser-facing static routes: the live page (/), the client library as ES modules, /asyncapi.json.
// Must never serve a path it did not list at registration (no traversal) nor load TypeScript when running compiled.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type * as uWS from 'uWebSockets.js'
import { PAGE_HTML } from '../page/page-html.js'

export interface PageRouteOptions {
  /** the AsyncAPI document (JSON); default: asyncapi.json at the repository root */
  asyncapiPath?: string
}

/**
 * Module URLs the browser loads: `/client/<name>.js` and `/page/<name>.js`, mirroring src/client and src/page
 * so the relative imports tsc leaves in place (`../client/tickcast-client.js`) resolve in the browser too.
 * `/client.js` is a one-line entry re-exporting the library, for `import { TickcastClient } from '/client.js'`.
 */
const MODULE_DIRS = ['client', 'page'] as const
const MODULE_NAME = /^[a-z0-9-]+\.(?:ts|js)$/
const JS_TYPE = 'text/javascript; charset=utf-8'
export const CLIENT_ENTRY = "export * from './client/tickcast-client.js'\n"

/**
 * Compiled (dist/, `npm start`) this file is .js and serves tsc's output beside it. From the TypeScript sources
 * (vitest, tsx) it transpiles each module once on first request with `typescript` (a devDependency, loaded only
 * in that case), so tests exercise the same page without a build step.
 */
const FROM_SOURCES = import.meta.url.endsWith('.ts')

function listModules(dir: string): string[] {
  const path = fileURLToPath(new URL('../' + dir + '/', import.meta.url))
  if (!existsSync(path)) return []
  return readdirSync(path).filter((f) => MODULE_NAME.test(f) && !f.includes('.test.') && !f.endsWith('.d.ts'))
}

interface TsApi {
  transpileModule(src: string, opts: { compilerOptions: Record<string, unknown>; fileName: string }): { outputText: string }
  ModuleKind: { ESNext: number }
  ScriptTarget: { ES2022: number }
}
let ts: TsApi | null = null

function loadModule(dir: string, file: string): string {
  const src = readFileSync(new URL('../' + dir + '/' + file, import.meta.url), 'utf8')
  if (!FROM_SOURCES) return src
  ts ??= createRequire(import.meta.url)('typescript') as TsApi
  return ts.transpileModule(src, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText
}

function findAsyncApi(explicit: string | undefined): string | null {
  const candidates = explicit ? [explicit] : [
    fileURLToPath(new URL('../../asyncapi.json', import.meta.url)), // src/http → repo root
    fileURLToPath(new URL('../../../asyncapi.json', import.meta.url)), // dist/src/http → repo root
  ]
  for (const c of candidates) if (existsSync(c)) return c
  return null
}

function send(res: uWS.HttpResponse, type: string, body: string): void {
  res.writeStatus('200 OK').writeHeader('Content-Type', type).writeHeader('Cache-Control', 'no-cache').end(body)
}

function notFound(res: uWS.HttpResponse): void {
  res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json').end('{"error":"NOT_FOUND"}')
}

/** Registers `/`, `/client.js`, `/client/*.js`, `/page/*.js` and `/asyncapi.json` on the server's uWS app. */
export function registerPageRoutes(app: uWS.TemplatedApp, opts: PageRouteOptions = {}): void {
  const cache = new Map<string, string>()
  const served = new Map<string, { dir: string; file: string }>()
  for (const dir of MODULE_DIRS) {
    for (const file of listModules(dir)) served.set('/' + dir + '/' + file.replace(/\.ts$/, '.js'), { dir, file })
  }
  const asyncapiPath = findAsyncApi(opts.asyncapiPath)

  app.get('/', (res) => { send(res, 'text/html; charset=utf-8', PAGE_HTML) })
  app.get('/client.js', (res) => { send(res, JS_TYPE, CLIENT_ENTRY) })

  const serveModule = (res: uWS.HttpResponse, req: uWS.HttpRequest): void => {
    const url = req.getUrl()
    const m = served.get(url)
    if (!m) { notFound(res); return }
    let body = cache.get(url)
    if (body === undefined) {
      try { body = loadModule(m.dir, m.file) } catch { notFound(res); return }
      cache.set(url, body)
    }
    send(res, JS_TYPE, body)
  }
  app.get('/client/*', serveModule)
  app.get('/page/*', serveModule)

  app.get('/asyncapi.json', (res) => {
    if (asyncapiPath === null) { notFound(res); return }
    let body = cache.get('asyncapi')
    if (body === undefined) { body = readFileSync(asyncapiPath, 'utf8'); cache.set('asyncapi', body) }
    send(res, 'application/json', body)
  })
}
