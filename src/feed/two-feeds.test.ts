// Two real feeds into one tickcast over real sockets, both defining the same symbols (two simulators, one universe):
// a symbol belongs to one feed (a symbols= pattern claims it, a quota caps the other), the other feed's definitions
// and quotes are refused and counted, its quotes never reach the symbol, and every snapshot (REST, WebSocket JSON and
// msgpack, the client library) names the feed the symbol belongs to.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startSimulator } from '../../feeds/sim/simulator.js'
import { TickcastClient } from '../client/tickcast-client.js'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import { startTickcast } from '../server.js'
import { restSnapshot } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { readNativeFeed } from '../../test-support/native-market.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'
import { REFUSED_OWNER, REFUSED_PATTERN, REFUSED_QUOTA } from './feed-stats.js'

const running: Stoppable[] = []
afterEach(async () => { for (const r of running.splice(0).reverse()) await r.stop() })

describe('two feeds defining the same symbols', () => {
  it('each symbol belongs to one feed: the other\'s data is refused and counted, and snapshots name the owner', async () => {
    const [simA, simB] = await Promise.all([1, 2].map((seed) => startSimulator({ port: 0, symbols: 30, rate: 2000, seed, directoryEverySec: 0 })))
    running.push({ stop: () => simA.stop(0) }, { stop: () => simB.stop(0) })
    const refA = readNativeFeed(simA.port), refB = readNativeFeed(simB.port)
    running.push(refA, refB)
    await waitFor(() => refA.market.names.size === 30 && refB.market.names.size === 30, 5000, 'both directories')
    const names = [...refA.market.names.values()]
    expect([...refB.market.names.values()]).toEqual(names) // the same symbols, each defined by both feeds
    const claimed = names.slice(0, 2) // feed b's pattern claims these two; feed a may define 20 of the other 28

    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none',
      '--feed', `a=native:tcp://127.0.0.1:${simA.port}?quota=20`,
      '--feed', `b=native:tcp://127.0.0.1:${simB.port}?symbols=${claimed.join(',')}`], {})
    if (cli.kind !== 'run') throw new Error('bad test config: ' + JSON.stringify(cli))
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(t)
    const [a, b] = t.feeds.map((f) => f.stats)
    await waitFor(() => t.symbols.size === 22 && a.symbolRefusals[REFUSED_QUOTA] === 8, 5000, '2 symbols of b and 20 of a')
    expect(a.symbolRefusals[REFUSED_PATTERN]).toBe(2) // a's definitions of b's claimed symbols
    // b may define nothing outside its pattern: refused as a's (owner) when a defined it first, else by the pattern
    expect(b.symbolRefusals[REFUSED_OWNER] + b.symbolRefusals[REFUSED_PATTERN]).toBe(28)
    const ofA = names.slice(2).filter((n) => t.symbols.idOf(n) >= 0)
    expect(ofA).toHaveLength(20)

    // every snapshot names the owner: REST, and WebSocket JSON and msgpack through the client library
    expect((await restSnapshot(t.port, claimed[0]) as unknown as { feed: string }).feed).toBe('b')
    expect((await restSnapshot(t.port, ofA[0]) as unknown as { feed: string }).feed).toBe('a')
    for (const format of ['json', 'msgpack'] as const) {
      const c = new TickcastClient({ url: t.url, format, WebSocket, reconnect: { minMs: 50, maxMs: 400 }, pingIntervalMs: 0 })
      running.push({ stop: async () => c.close() })
      c.subscribe([...claimed, ...ofA.slice(0, 3)]); c.connect()
      await waitFor(() => [...claimed, ...ofA.slice(0, 3)].every((s) => (c.get(s)?.n ?? -1) >= 0), 5000, `${format} snapshots`)
      expect([...claimed, ...ofA.slice(0, 3)].map((s) => c.get(s)!.feed), format).toEqual(['b', 'b', 'a', 'a', 'a'])
    }

    // the refused feed's quotes never reach a symbol: at the end each holds exactly its owner's last quote
    await sleep(200)
    await Promise.all([simA.stop(2000), simB.stop(2000)])
    await waitFor(() => refA.ended && refB.ended && a.endOfSession === 1 && b.endOfSession === 1, 5000, 'End of Session everywhere')
    await sleep(100) // the dispatcher applies the last events to the cache
    const last = (name: string): number[] => { const id = t.symbols.idOf(name); return [t.lvc.bidPrice[id], t.lvc.bidSize[id], t.lvc.askPrice[id], t.lvc.askSize[id]] }
    for (const n of claimed) expect(last(n), n).toEqual(refB.market.quotes.get(n))
    for (const n of ofA) expect(last(n), n).toEqual(refA.market.quotes.get(n))
    expect(claimed.some((n) => refA.market.quotes.get(n)!.join() !== refB.market.quotes.get(n)!.join())).toBe(true) // the feeds disagree
    expect(b.decodeErrors.reduce((x, y) => x + y, 0)).toBeGreaterThan(0) // b's quotes for the other 28: refused, counted
  })
})
