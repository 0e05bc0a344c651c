// Owns the process as composition root: parses the command line, wires in feeds/ (embedded simulator), traps signals, exits.
// Must never hold pipeline logic: everything it runs comes from server.ts.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
// Fast start (issue 15): only what parses the command line and starts the simulator's thread is imported statically;
// the server's modules (mqtt, aedes, prom-client, pino: most of start-up) load after the simulator thread was spawned,
// so its start overlaps them on the other core. --help, --version and a typo never load them.
import { startEmbeddedSimulator } from '../feeds/sim/embedded.js'
import { ConfigError, loadConfig } from './config.js'
import { BootError } from './errors.js'
import type { EmbeddedSimulator, StartSimulator } from './embedded-feed.js'
import type { PageRouteOptions } from './http/page-routes.js'
import { redactUrl, redactedConfig } from './redact.js'

const EXIT_OK = 0, EXIT_FAILURE = 1, EXIT_USAGE = 2
/** how long start-up waits for the feeds to be ready before listening and printing the banner */
const READY_WAIT_MS = 500

/** Paths from this file's compiled location, dist/src/main.js: the browser deliverable beside it, the contract at the root. */
const PAGE: Omit<PageRouteOptions, 'pageHtml'> = {
  clientDir: fileURLToPath(new URL('./client/', import.meta.url)),
  asyncapiPath: fileURLToPath(new URL('../../asyncapi.json', import.meta.url)),
}

async function main(): Promise<void> {
  let cli
  try {
    cli = loadConfig(process.argv.slice(2), process.env)
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tickcast: ${e.message}\n${e.usage ? "run 'tickcast --help' for the options\n" : ''}`)
      process.exit(e.usage ? EXIT_USAGE : EXIT_FAILURE)
    }
    throw e
  }
  if (cli.kind === 'help') { process.stdout.write(cli.text); return }
  if (cli.kind === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    process.stdout.write(`tickcast ${pkg.version}\n`)
    return
  }
  const config = cli.config
  // the same condition and options startTickcast uses for embedded mode; it takes this one instead of starting another
  let early: Promise<EmbeddedSimulator> | null = null
  if (config.feeds.length === 0 && config.source.length === 0) {
    early = startEmbeddedSimulator({ port: 0, symbols: config.simSymbols, rate: config.simRate, seed: config.simSeed })
    early.catch(() => undefined) // startTickcast awaits it and reports the failure; until then it must not go unhandled
  }
  const startSimulator: StartSimulator = (o) => early ?? startEmbeddedSimulator(o)
  const [{ createLogger }, { startTickcast }, { registerPageRoutes }, { PAGE_HTML }] = await Promise.all([
    import('./log.js'), import('./server.js'), import('./http/page-routes.js'), import('./client/page/page-html.js'),
  ])
  const page: PageRouteOptions = { ...PAGE, pageHtml: PAGE_HTML }
  const log = createLogger(config.logLevel)
  log.info({ config: redactedConfig(config) }, 'starting')
  // Feeds and MQTT retry in the background (see README, startup policy): a healthy feed gets a moment (readyWaitMs) to
  // log in before the server listens, then the banner says plainly when /readyz would answer 503 and why.
  const app = await startTickcast(config, log, {
    extraRoutes: (uws) => registerPageRoutes(uws, page), pageRoutes: page, startSimulator, readyWaitMs: READY_WAIT_MS,
  })
  // Handlers before the banner: whoever reads the banner may signal at once, and a signal with no handler yet
  // would kill the process with no clean stop.
  let signals = 0
  const shutdown = (signal: string): void => {
    if (++signals > 1) { log.warn({ signal }, 'second signal: exiting now'); process.exit(EXIT_FAILURE) }
    // Drain first: /readyz turns 503 so load balancers stop sending new clients while everything keeps serving;
    // only then are clients told to go (1001) and the deadline for the stop itself starts.
    log.info({ signal, drainMs: config.drainMs }, config.drainMs > 0 ? 'draining: /readyz answers 503, then shutting down' : 'shutting down')
    app.drain()
    setTimeout(() => {
      const deadline = setTimeout(() => { log.error({ deadlineMs: config.shutdownDeadlineMs }, 'shutdown deadline passed'); process.exit(EXIT_FAILURE) }, config.shutdownDeadlineMs)
      deadline.unref()
      app.stop().then(() => {
        log.info('shutdown complete')
        log.flush()
        process.exit(EXIT_OK)
      }, (e: unknown) => { log.error({ err: e }, 'shutdown failed'); process.exit(EXIT_FAILURE) })
    }, config.drainMs)
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('uncaughtException', (e) => { log.fatal({ err: e }, 'uncaught exception'); log.flush(); process.exit(EXIT_FAILURE) })
  const rd = app.readiness()
  const readyLine = rd.ready ? 'yes' : `NO: ${rd.reason ?? 'not ready'} (/readyz answers 503; feeds keep retrying, see the warn logs)`
  process.stdout.write(`tickcast ${rd.ready ? 'ready' : 'started, not ready'}\n  Ready      ${readyLine}\n  WebSocket  ${app.url}\n  HTTP       ${config.tlsCertFile ? 'https' : 'http'}://${config.host}:${app.port}/  (live page; /v1/symbols, /v1/snapshot/AAPL, /healthz, /readyz)\n  Metrics    ${app.metricsUrl}\n  MQTT       ${app.mqttUrl !== null ? redactUrl(app.mqttUrl) : 'disabled'}  (topics ${config.mqttPrefix}/quotes/{SYMBOL}, ${config.mqttPrefix}/trades/{SYMBOL})\n`)
}

main().catch((e: unknown) => {
  const code = e instanceof BootError ? e.code : 'BOOT'
  process.stderr.write(`tickcast: failed to start (${code}): ${(e as Error).message}\n`)
  process.exit(EXIT_FAILURE)
})
