// Book-state events travel the bus like every other event: an edge fed by an ingest node reading the real ITCH
// sample holds the same order-book state per symbol, and a book marker never touches the symbol's staleness.
import { afterEach, describe, expect, it } from 'vitest'
import { SoupServer } from '../../feeds/soup-server.js'
import { caughtUp, edgeNode } from '../../test-support/bus-rig.js'
import { stopAll } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { realItchStream } from '../../test-support/itch-sample.js'
import { natsAvailable, startNatsCluster } from '../../test-support/nats-cluster.js'
import { waitFor } from '../../test-support/wait-for.js'
import { BOOK_NONE } from '../model/book-state.js'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import { startTickcast } from '../server.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('book state over the bus', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('an edge holds the ingest node\'s book state per symbol (real ITCH sample), staleness untouched', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const soup = new SoupServer({ sessionId: 'NQ' })
    const soupPort = await soup.listen()
    running.push({ stop: () => soup.close() })
    for (const m of realItchStream()) soup.append(m.bytes, 0, m.bytes.length)
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none',
      '--feed', `nq=itch:tcp://127.0.0.1:${soupPort}?session=NQ&date=2023-08-22`,
      '--bus', cluster.urls, '--bus-stream', 'BOOK', '--stream-epoch', 'nq-2023-08-22'], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const ingest = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(ingest)
    const edge = await edgeNode(running, cluster.urls, 'BOOK', 'nq-2023-08-22')
    const bookOf = (t: typeof ingest, sym: string): number => t.lvc.book[t.symbols.idOf(sym)]
    const same = (): boolean => ingest.symbols.size > 0 && caughtUp(ingest, edge)
      && ingest.symbols.name.every((s) => bookOf(edge, s) === bookOf(ingest, s) && edge.lvc.upstreamStale[edge.symbols.idOf(s)] === ingest.lvc.upstreamStale[ingest.symbols.idOf(s)])
    await waitFor(() => ingest.bus!.stats.published > 0 && ingest.bus!.stats.inFlight === 0 && same(), 20_000, 'the edge holding the ingest node\'s books')
    const books = ingest.symbols.name.filter((s) => bookOf(ingest, s) !== BOOK_NONE)
    expect(books.length).toBeGreaterThan(0) // the sample's order-book symbols made book-state events
    for (const s of ingest.symbols.name) expect(bookOf(edge, s), s).toBe(bookOf(ingest, s))
  }, 60_000)
})
