// GLIMPSE recovery of a native feed end to end over real sockets: tickcast (--feed sim=native:…?glimpse=…) against the
// simulator's live session (a small recovery store) and its snapshot endpoint. Seeded at start, then an outage long
// enough to fall out of the store (a real gap: every symbol stale), then a snapshot and the live session resumed at the
// sequence it announces. tickcast ends holding exactly what a client that read every message from sequence 1 holds,
// and its live sessions applied exactly the sequences the snapshots did not cover: nothing lost, nothing twice.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { STALE_FEED_GAP, STALE_NONE } from '../../src/model/staleness.js'
import { startTickcast } from '../../src/server.js'
import { readNativeFeed } from '../../test-support/native-market.js'
import { startTcpProxy } from '../../test-support/tcp-proxy.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'
import { startSimulator } from './simulator.js'

const running: Array<() => Promise<unknown>> = []
afterEach(async () => { for (const stop of running.splice(0).reverse()) await stop() })

/** pino lines of the server, parsed: the snapshot and gap events carry the sequences the accounting below needs. */
function capturingLogger(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb() } })
  return { log: pino({ level: 'info' }, sink), lines }
}

describe('GLIMPSE recovery of a native feed (the simulator\'s snapshot endpoint)', () => {
  it('seeds at start, marks every symbol stale on a gap, recovers from a snapshot and resumes live with nothing lost or repeated', async () => {
    const sim = await startSimulator({ port: 0, glimpsePort: 0, symbols: 30, rate: 3000, seed: 5, recoveryBytes: 64 * 1024, heartbeatIntervalMs: 100 })
    running.push(() => sim.stop(0))
    // the reference reads the live session directly, from sequence 1
    const reference = readNativeFeed(sim.port), ref = reference.market, refStats = reference.stats
    running.push(() => reference.stop())
    // the networks between the venue and tickcast, one per port: faults are injected there
    const liveLink = await startTcpProxy(sim.port), glimpseLink = await startTcpProxy(sim.glimpsePort!)
    running.push(() => liveLink.close(), () => glimpseLink.close())

    await sleep(300) // the market is under way before tickcast starts: it starts from a snapshot, not from sequence 1
    const cli = loadConfig(['--port', '0', '--log-level', 'info', '--mqtt-url', 'none', '--feed-heartbeat-ms', '100',
      '--feed', `sim=native:tcp://127.0.0.1:${liveLink.port}?glimpse=tcp://127.0.0.1:${glimpseLink.port}`], {})
    if (cli.kind !== 'run') throw new Error('bad test config: ' + JSON.stringify(cli))
    const { log, lines } = capturingLogger()
    const t = await startTickcast(cli.config, log, { processMetrics: false })
    running.push(() => t.stop())
    const stats = t.feeds[0].stats
    await waitFor(() => stats.snapshots === 1 && stats.loggedIn === 1, 10_000, 'the start snapshot and the live login')
    await waitFor(() => t.symbols.size === 30 && stats.messages > 300, 10_000, 'the directory (from the snapshot) and live data')
    const ids = t.symbols.name.map((n) => t.symbols.idOf(n))

    // An outage: the venue sends on, its store moves past what tickcast has, so the reconnect meets a real gap.
    liveLink.hold()
    await waitFor(() => sim.server.oldestSeq > stats.nextSeqGauge + 100, 10_000, 'the store to move past tickcast')
    glimpseLink.hold() // the partial state can be seen while the snapshot is held
    liveLink.dropAll(); liveLink.release()
    await waitFor(() => stats.gaps === 1, 10_000, 'the gap')
    expect(stats.loggedIn).toBe(0) // no live data while the snapshot is pending
    await waitFor(() => ids.every((id) => t.lvc.staleReason(id) === STALE_FEED_GAP), 5000, 'every symbol stale (feed_gap)')
    glimpseLink.release()
    await waitFor(() => stats.snapshots === 2 && stats.loggedIn === 1, 10_000, 'the second snapshot and the live login')
    await waitFor(() => ids.every((id) => t.lvc.staleReason(id) === STALE_NONE), 5000, 'every symbol fresh again')
    await sleep(200)

    await sim.stop(3000) // End of Session: the market freezes, both readers must land on the same last values
    await waitFor(() => reference.ended && stats.endOfSession === 1, 10_000, 'End of Session on both')
    await sleep(100) // the dispatcher applies the last events to the cache

    // Accounting: live session 1 applied [resume1, gapFrom), live session 2 [resume2, end]; the snapshots cover the rest.
    const resumes = lines.filter((l) => typeof l.resumeSeq === 'number').map((l) => l.resumeSeq as number)
    const gap = lines.find((l) => l.event === 'gap')!
    expect(resumes).toHaveLength(2)
    const gapFrom = gap.fromSeq as number, missed = gap.count as number
    expect(resumes[0]).toBeGreaterThan(1 + 3 * 30) // after the opening: the market had moved
    expect(resumes[1]).toBeGreaterThanOrEqual(gapFrom + missed) // the snapshot covers every message the store lost
    expect(stats.missed).toBe(missed)
    expect(stats.nextSeqGauge).toBe(refStats.nextSeqGauge) // both read to the last message
    expect(stats.messages).toBe((gapFrom - resumes[0]) + (stats.nextSeqGauge - resumes[1]))
    expect(stats.duplicates).toBe(0)
    expect(stats.snapshotFailures).toBe(0)
    expect(stats.decodeErrors.every((n) => n === 0)).toBe(true)

    // tickcast's last values equal the reference's, symbol by symbol (the reference itself read every message)
    expect(refStats.gaps).toBe(0)
    expect(ref.quotes.size).toBe(30)
    for (const [name, q] of ref.quotes) {
      const id = t.symbols.idOf(name)
      expect([t.lvc.bidPrice[id], t.lvc.bidSize[id], t.lvc.askPrice[id], t.lvc.askSize[id]], name).toEqual(q)
      expect(t.lvc.status[id], name).toBe(ref.statuses.get(name))
    }
  })
})
