// Owns starting real tickcast servers fed by a real simulator for the client, page and contract tests.
// Must never fake the server: every helper runs the real pipeline on loopback and registers its own cleanup.
import { fileURLToPath } from 'node:url'
import { startSimulator } from '../feeds/sim/simulator.js'
import type { RunningSimulator } from '../feeds/sim/simulator.js'
import { loadConfig } from '../src/config.js'
import { PAGE_HTML } from '../src/client/page/page-html.js'
import { registerPageRoutes } from '../src/http/page-routes.js'
import type { PageRouteOptions } from '../src/http/page-routes.js'
import { createLogger } from '../src/log.js'
import { startTickcast } from '../src/server.js'
import type { StartOptions, Tickcast } from '../src/server.js'

export type Stoppable = { stop(): Promise<unknown> }

/**
 * The page routes as production serves them: the compiled client that vitest's global setup builds into
 * dist/src/client before the suite (vitest.global-setup.ts), the page HTML, the repository's asyncapi.json.
 */
export const PAGE_ROUTES: PageRouteOptions = {
  clientDir: fileURLToPath(new URL('../dist/src/client/', import.meta.url)),
  pageHtml: PAGE_HTML,
  asyncapiPath: fileURLToPath(new URL('../asyncapi.json', import.meta.url)),
}

/** StartOptions that serve the live page on the main app and on every fan-out worker's app. */
export const WITH_PAGE: StartOptions = { extraRoutes: (app) => registerPageRoutes(app, PAGE_ROUTES), pageRoutes: PAGE_ROUTES }

/** Stop everything in reverse order of start (call from afterEach). */
export async function stopAll(list: Stoppable[]): Promise<void> {
  for (const r of list.splice(0).reverse()) await r.stop()
}

/** A simulator the test controls: stopping it freezes every symbol, so client state can be compared exactly. */
export async function simulator(list: Stoppable[], rate: number, seed = 7, symbols = 30): Promise<RunningSimulator> {
  const sim = await startSimulator({ port: 0, rate, symbols, seed, directoryEverySec: 0 })
  list.push({ stop: () => sim.stop(0) })
  return sim
}

export async function tickcast(list: Stoppable[], simPort: number, opts: StartOptions = {}, flags: string[] = []): Promise<Tickcast> {
  // no MQTT unless the caller asks (e.g. ['--mqtt-url', ''] = the embedded broker)
  const mqtt = flags.includes('--mqtt-url') ? [] : ['--mqtt-url', 'none']
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', ...mqtt, '--feed', 'sim=native:tcp://127.0.0.1:' + simPort, ...flags], {})
  if (cli.kind !== 'run') throw new Error('bad test config')
  const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false, ...opts })
  list.push(t)
  return t
}

export interface RestSnapshot {
  e: 'snap'; s: string; n: number
  bp: number | null; bs: number | null; ap: number | null; as: number | null; qt: number | null
  p: number | null; q: number | null; tt: number | null; st: string | null
  /** null = complete; else why it may not be: 'feed_gap' | 'feed_down' | 'lapped' */
  stale: string | null
}

export async function restSnapshot(port: number, symbol: string): Promise<RestSnapshot> {
  const r = await fetch('http://127.0.0.1:' + port + '/v1/snapshot/' + symbol)
  if (r.status !== 200) throw new Error('snapshot ' + symbol + ': HTTP ' + r.status)
  return await r.json() as RestSnapshot
}
