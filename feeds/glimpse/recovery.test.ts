// GLIMPSE recovery end to end over real sockets, on the real ITCH sample: tickcast (--feed …?glimpse=) against a
// SoupBinTCP server with a small recovery store and a GLIMPSE endpoint built from what it has sent. Seeded at start,
// then a network outage long enough to fall out of the store (a real gap), then recovery; at every step tickcast's
// books equal a Map book built from the reference decode at that sequence, and no message is lost or applied twice.
// Also against feed:replay's own GLIMPSE endpoint, as a user would run it.
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { ItchDecoder } from '../../src/feed/decoders/itch.js'
import { createLogger } from '../../src/log.js'
import { startTickcast } from '../../src/server.js'
import type { Tickcast } from '../../src/server.js'
import { asBinaryFile, realItchStream, referenceBook, topsOf } from '../../test-support/itch-sample.js'
import { freePort } from '../../test-support/processes.js'
import { startTcpProxy } from '../../test-support/tcp-proxy.js'
import { waitFor } from '../../test-support/wait-for.js'
import { LOGIN_ACCEPTED_BYTES, writeLoginAccepted, writeSequencedHeader } from '../../src/feed/soupbin.js'
import { loadCapture } from '../replay/load-capture.js'
import { startReplay } from '../replay/replayer.js'
import { SoupServer } from '../soup-server.js'
import { GlimpseServer } from './glimpse-server.js'
import { ItchBookModel } from './itch-book-model.js'

const running: Array<() => Promise<unknown>> = []
afterEach(async () => { for (const stop of running.splice(0).reverse()) await stop() })

const SIDE_BID = 0, SIDE_ASK = 1

function loginAccepted(session: string, seq: number): Buffer { const b = Buffer.alloc(LOGIN_ACCEPTED_BYTES); writeLoginAccepted(b, 0, session, seq); return b }
function sequenced(m: Buffer): Buffer { const b = Buffer.alloc(3 + m.length); writeSequencedHeader(b, 0, m.length); m.copy(b, 3); return b }

/** tickcast's book against the reference Map book after `upTo` messages: every order's shares, and every top of book. */
function expectBookAt(dec: ItchDecoder, stream: ReturnType<typeof realItchStream>, upTo: number): void {
  const want = referenceBook(stream, upTo)
  expect(dec.book.liveOrders, `live orders after ${upTo}`).toBe(want.size)
  for (const [ref, o] of want) expect(dec.book.sharesOf(ref), `order ${ref} after ${upTo}`).toBe(o.shares)
  for (const [locate, top] of topsOf(want)) {
    const got = [dec.book.bestPrice(locate, SIDE_BID), dec.book.bestSize(locate, SIDE_BID), dec.book.bestPrice(locate, SIDE_ASK), dec.book.bestSize(locate, SIDE_ASK)]
    expect(got, `top of locate ${locate} after ${upTo}`).toEqual(top)
  }
}

describe('GLIMPSE recovery', () => {
  it.each([['one line', false], ['A/B lines', true]])('%s: seeds the books at start, recovers them after a gap, and resumes live at the snapshot sequence with nothing lost or repeated', async (_name, ab) => {
    const stream = realItchStream()
    expect(stream.length).toBe(1072)
    // A recovery store of a few hundred bytes: the venue keeps little history, so an outage becomes a gap.
    const soup = new SoupServer({ sessionId: 'NQ', recoveryBytes: 256, blockBytes: 64 })
    const soupPort = await soup.listen()
    running.push(() => soup.close())
    const model = new ItchBookModel()
    const glimpse = new GlimpseServer(() => ({ messages: model.snapshot(), nextSeq: soup.nextSeq }), { sessionId: 'NQ' })
    const glimpseBackend = await glimpse.listen()
    running.push(() => glimpse.close())
    const glimpseLink = await startTcpProxy(glimpseBackend) // held during the outage: the partial state can be seen
    running.push(() => glimpseLink.close())
    const glimpsePort = glimpseLink.port
    let sent = 0
    const sendUpTo = (n: number): void => {
      for (; sent < n; sent++) { const b = stream[sent].bytes; soup.append(b, 0, b.length); model.apply(b, 0, b.length) }
    }
    // the network between the venue's real-time port and tickcast (one path per line)
    const proxies = ab ? [await startTcpProxy(soupPort), await startTcpProxy(soupPort)] : [await startTcpProxy(soupPort)]
    for (const p of proxies) running.push(() => p.close())
    const lines = proxies.map((p) => `tcp://127.0.0.1:${p.port}`).join(',')

    // 1. The day is under way (directory and the first orders sent, long gone from the store): start from a snapshot.
    sendUpTo(1020)
    expect(soup.oldestSeq).toBeGreaterThan(1000)
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none',
      '--feed', `nq=itch:${lines}?session=NQ&date=2023-08-22&glimpse=tcp://127.0.0.1:${glimpsePort}`], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t: Tickcast = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(() => t.stop())
    const feed = t.feeds[0], stats = feed.stats, dec = feed.decoder as ItchDecoder
    expect(dec).toBeInstanceOf(ItchDecoder)
    await waitFor(() => stats.snapshots === 1 && stats.loggedIn === 1, 10_000, 'the start snapshot and the live login')
    expect(stats.nextSeqGauge).toBe(1021)
    expect(stats.messages).toBe(0)
    expect(stats.snapshotMessages).toBe(glimpse.counters.messagesSent)
    expectBookAt(dec, stream, 1020)
    expect(dec.locates.partialCount()).toBe(0)

    // 2. Live data on top of the snapshot.
    sendUpTo(1035)
    await waitFor(() => stats.nextSeqGauge === 1036, 5000, 'live messages up to 1035')
    expectBookAt(dec, stream, 1035)

    // 3. An outage: nothing reaches tickcast while the venue sends on and its store moves past what tickcast has.
    for (const p of proxies) p.hold()
    sendUpTo(1055)
    expect(soup.oldestSeq).toBeGreaterThan(1036)
    const missed = soup.oldestSeq - 1036
    glimpseLink.hold()
    for (const p of proxies) { p.dropAll(); p.release() }
    await waitFor(() => stats.gaps === 1, 10_000, 'the gap')
    expect(dec.locates.partialCount()).toBeGreaterThan(900) // every book of the feed: orders may be missing from any
    expect(stats.loggedIn).toBe(0) // no live data is applied to partial books while the snapshot is pending
    glimpseLink.release()
    await waitFor(() => stats.snapshots === 2 && stats.loggedIn === 1, 10_000, 'the gap, a second snapshot and the live login')
    expect(stats.gaps).toBe(1)
    expect(stats.missed).toBe(missed)
    expect(stats.nextSeqGauge).toBe(1056)
    expect(dec.locates.partialCount()).toBe(0)
    expectBookAt(dec, stream, 1055)

    // 4. Live again from the snapshot's sequence: every later message exactly once.
    sendUpTo(stream.length)
    await waitFor(() => stats.nextSeqGauge === stream.length + 1, 5000, 'the rest of the stream')
    expectBookAt(dec, stream, stream.length)
    // every real-time message applied once (A/B: the second line's copies are counted as duplicates, never applied)
    expect(stats.messages).toBe((1035 - 1020) + (stream.length - 1055))
    if (!ab) expect(stats.duplicates).toBe(0)
    expect(glimpse.counters.snapshots).toBe(2)
    expect(stats.snapshotFailures).toBe(0)
  })

  it('joins a feed:replay of the sample after it ended, from the replayer\'s own GLIMPSE endpoint: books equal the reference, nothing replayed', async () => {
    const stream = realItchStream()
    const replay = await startReplay({ capture: loadCapture(asBinaryFile(stream), 'itch'), glimpsePort: 0, sessionId: 'NQ' })
    running.push(() => replay.stop())
    await replay.done // the whole day has been sent: a late joiner needs the book, not the day
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none',
      '--feed', `nq=itch:tcp://127.0.0.1:${replay.port}?session=NQ&date=2023-08-22&glimpse=tcp://127.0.0.1:${replay.glimpsePort}`], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(() => t.stop())
    const stats = t.feeds[0].stats, dec = t.feeds[0].decoder as ItchDecoder
    await waitFor(() => stats.snapshots === 1 && stats.endOfSession === 1, 10_000, 'the snapshot, then the live session to its end')
    expect(stats.nextSeqGauge).toBe(stream.length + 1) // resumed at End of Snapshot's sequence: past the last message
    expect(stats.messages).toBe(0) // no real-time message repeated on top of the snapshot
    expectBookAt(dec, stream, stream.length)
    expect(dec.locates.partialCount()).toBe(0)
    expect(replay.glimpse!.counters.snapshots).toBe(1)
  })

  it('keeps the live session closed and retries while GLIMPSE is unreachable or cut mid-snapshot, then starts from the snapshot', async () => {
    const stream = realItchStream()
    const soup = new SoupServer({ sessionId: 'NQ' })
    const soupPort = await soup.listen()
    running.push(() => soup.close())
    const model = new ItchBookModel()
    for (const m of stream) { soup.append(m.bytes, 0, m.bytes.length); model.apply(m.bytes, 0, m.bytes.length) }
    const glimpsePort = await freePort()
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none',
      '--feed', `nq=itch:tcp://127.0.0.1:${soupPort}?date=2023-08-22&glimpse=tcp://127.0.0.1:${glimpsePort}`], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(() => t.stop())
    const stats = t.feeds[0].stats, dec = t.feeds[0].decoder as ItchDecoder
    await waitFor(() => stats.snapshotFailures >= 2, 10_000, 'failed snapshot attempts (nothing listening)')
    expect(stats.loggedIn).toBe(0) // no live data on books nobody seeded
    expect(soup.counters.logins).toBe(0)
    // a server that logs the client in, sends the first snapshot messages and half of the next frame, then closes
    const snap = model.snapshot(), failuresBefore = stats.snapshotFailures
    const partial = Buffer.concat([loginAccepted('NQ', 1), ...snap.slice(0, 5).map(sequenced)])
    const cut = sequenced(snap[5]).subarray(0, 7)
    const { createServer } = await import('node:net')
    const broken = createServer((c) => { c.once('data', () => c.end(Buffer.concat([partial, cut]))); c.on('error', () => {}) })
    await new Promise<void>((r) => broken.listen(glimpsePort, '127.0.0.1', r))
    await waitFor(() => stats.snapshotFailures > failuresBefore, 10_000, 'a snapshot cut mid-frame to fail')
    await new Promise<void>((r) => broken.close(() => r()))
    expect(stats.snapshots).toBe(0)
    expect(stats.loggedIn).toBe(0)
    // then the real one
    const glimpse = new GlimpseServer(() => ({ messages: model.snapshot(), nextSeq: soup.nextSeq }), { sessionId: 'NQ', port: glimpsePort })
    await glimpse.listen()
    running.push(() => glimpse.close())
    await waitFor(() => stats.snapshots === 1 && stats.loggedIn === 1, 10_000, 'a whole snapshot and the live login')
    expect(stats.nextSeqGauge).toBe(stream.length + 1)
    expectBookAt(dec, stream, stream.length)
    expect(stats.messages).toBe(0)
  })
})
