import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { FeedStats } from './feed-stats.js'
import { SESSION_DISCONNECTED, SESSION_END, SESSION_GAP } from './session-sink.js'
import type { SessionEvent, SessionSink } from './session-sink.js'
import { SoupClient } from './soup-client.js'
import type { SoupClientOptions } from './soup-client.js'
import { SoupServer } from '../../feeds/soup-server.js'
import { LOGIN_ACCEPTED_BYTES, writeLoginAccepted, writeSequencedHeader } from './soupbin.js'
import { randomInt, seededRandom } from '../../test-support/seeded-random.js'
import { startTcpProxy } from '../../test-support/tcp-proxy.js'
import type { TcpProxy } from '../../test-support/tcp-proxy.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'

/** Payload of message `seq`: u32 BE seq, then (seq % 29) filler bytes derived from seq. */
function payload(seq: number, fixedLen = -1): Buffer {
  const n = fixedLen >= 4 ? fixedLen : 4 + (seq % 29), b = Buffer.alloc(n)
  b.writeUInt32BE(seq, 0)
  for (let k = 4; k < n; k++) b[k] = (seq + k) & 255
  return b
}

/** Records every delivered seq and checks each payload against its seq. */
class RecordingSink implements SessionSink {
  seqs: number[] = []
  corrupt = 0
  batches = 0
  open = false
  beginBatch(): void { this.batches++; this.open = true }
  endBatch(): void { this.open = false }
  message(buf: Buffer, off: number, len: number, seq: number): void {
    if (!this.open || !payload(seq, len).equals(buf.subarray(off, off + len))) this.corrupt++
    this.seqs.push(seq)
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const servers: SoupServer[] = [], clients: SoupClient[] = [], raws: net.Server[] = [], proxies: TcpProxy[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()))
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
  await Promise.all(raws.splice(0).map((r) => new Promise((res) => r.close(res))))
})

async function startServer(opts: ConstructorParameters<typeof SoupServer>[0] = {}): Promise<{ server: SoupServer, port: number }> {
  const server = new SoupServer(opts)
  servers.push(server)
  return { server, port: await server.listen() }
}

/** A real TCP proxy in front of the server: the network faults (cuts, stray bytes) are injected there. */
async function startProxy(port: number): Promise<TcpProxy> {
  const proxy = await startTcpProxy(port)
  proxies.push(proxy)
  return proxy
}

function startClient(port: number, extra: Partial<SoupClientOptions> = {}) {
  const sink = new RecordingSink(), stats = new FeedStats('t'), events: SessionEvent[] = []
  const client = new SoupClient({ name: 't', host: '127.0.0.1', port, username: '', password: '',
    backoffMinMs: 2, backoffMaxMs: 20, ...extra }, sink, stats, (ev) => events.push(ev))
  clients.push(client)
  client.start()
  return { client, sink, stats, events }
}

describe('SoupClient against SoupServer', () => {
  it('receives exactly 1..N when the server cuts the TCP connection mid-frame at 20 seeded points', async () => {
    const N = 20_000, { server, port } = await startServer(), proxy = await startProxy(port)
    const { client, sink, stats } = startClient(proxy.port)
    const rnd = seededRandom(20240611), kills = new Set<number>()
    while (kills.size < 20) kills.add(randomInt(rnd, 200, N - 200))
    const killAt = [...kills].sort((a, b) => a - b)
    let seq = 1, cuts = 0
    for (const k of killAt) {
      // a new proxied connection, logged in on both ends (the cut one may still be closing)
      await waitFor(() => proxy.connectionCount === 1 && client.loggedIn && server.loggedInCount === 1, 5000, 'client login')
      const mid = randomInt(rnd, seq, k) // let part of the batch stream out before the cut
      for (; seq <= mid; seq++) server.append(payload(seq), 0, payload(seq).length)
      await sleep(randomInt(rnd, 0, 3))
      for (; seq <= k; seq++) server.append(payload(seq), 0, payload(seq).length)
      cuts += await proxy.cutMidFrame(randomInt(rnd, 1, 40))
    }
    for (; seq <= N; seq++) server.append(payload(seq), 0, payload(seq).length)
    await waitFor(() => sink.seqs.length >= N, 10_000, 'all messages')
    await sleep(20)
    expect(cuts).toBe(20)
    expect(sink.seqs.length).toBe(N)
    expect(sink.seqs).toEqual(range(1, N))
    expect(sink.corrupt).toBe(0)
    expect(stats.reconnects).toBeGreaterThanOrEqual(20)
    expect([stats.messages, client.nextExpectedSeq, stats.nextSeqGauge, stats.gaps, stats.missed]).toEqual([N, N + 1, N + 1, 0, 0])
  })

  it('reports a gap with the exact count when the requested seq is older than the recovery store', async () => {
    // 20-byte payloads → 23-byte packets; 1024-byte blocks hold 44; 8 blocks retained of ceil(2000/44) = 46.
    const { server, port } = await startServer({ recoveryBytes: 8192, blockBytes: 1024 })
    for (let s = 1; s <= 2000; s++) server.append(payload(s, 20), 0, 20)
    const oldest = (46 - 8) * 44 + 1
    expect(server.oldestSeq).toBe(oldest)
    const { sink, stats, events } = startClient(port)
    await waitFor(() => sink.seqs.length >= 2000 - oldest + 1, 5000, 'replay')
    expect(events.filter((e) => e.kind === SESSION_GAP)).toEqual([
      expect.objectContaining({ kind: SESSION_GAP, fromSeq: 1, count: oldest - 1 })])
    expect([stats.gaps, stats.missed]).toEqual([1, oldest - 1])
    expect(sink.seqs).toEqual(range(oldest, 2000))
    expect(sink.corrupt).toBe(0)
  })

  it('keeps a quiet link alive with server heartbeats', async () => {
    const { server, port } = await startServer({ heartbeatIntervalMs: 40 })
    const { stats } = startClient(port, { deadAfterMs: 200, heartbeatIntervalMs: 40 })
    await waitFor(() => stats.loggedIn === 1, 2000, 'login')
    await sleep(700)
    expect([stats.heartbeatTimeouts, stats.reconnects, server.counters.connections]).toEqual([0, 0, 1])
  })

  it('detects a silent server within deadAfterMs, sending heartbeats meanwhile, and reconnects', async () => {
    const conns: { at: number, closedAt: number, heartbeats: number }[] = []
    const raw = net.createServer((sock) => {
      const c = { at: 0, closedAt: 0, heartbeats: 0 }
      conns.push(c)
      sock.on('data', (d) => {
        for (let i = 0; i + 2 < d.length; i += 2 + d.readUInt16BE(i)) if (d[i + 2] === 0x52) c.heartbeats++
        if (c.at === 0) { // the login: accept it, then say nothing at all (socket stays open)
          const a = Buffer.alloc(LOGIN_ACCEPTED_BYTES); writeLoginAccepted(a, 0, 'S', 1); sock.write(a)
          c.at = performance.now()
        }
      })
      sock.on('close', () => { c.closedAt = performance.now() })
      sock.on('error', () => {})
    })
    raws.push(raw)
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r))
    const { stats, events } = startClient((raw.address() as net.AddressInfo).port, { deadAfterMs: 300, heartbeatIntervalMs: 100 })
    await waitFor(() => conns.length >= 2, 3000, 'reconnect')
    const silentFor = conns[0].closedAt - conns[0].at
    expect(silentFor).toBeGreaterThanOrEqual(280)
    expect(silentFor).toBeLessThan(300 + 200)
    expect(conns[0].heartbeats).toBeGreaterThanOrEqual(2)
    expect(stats.heartbeatTimeouts).toBeGreaterThanOrEqual(1)
    expect(events.some((e) => e.kind === SESSION_DISCONNECTED && /dead link/.test(e.reason ?? ''))).toBe(true)
  })

  it('skips replayed overlap once, counting duplicates', async () => {
    let conn = 0
    const requests: number[] = []
    const raw = net.createServer((sock) => {
      const n = ++conn
      sock.once('data', (login) => {
        requests.push(Number(login.toString('latin1', 29, 49).trim()))
        const first = n === 1 ? 1 : 3 // the second login asks for 6 but gets 3..8: 3 duplicates
        const parts: Buffer[] = [Buffer.alloc(LOGIN_ACCEPTED_BYTES)]
        writeLoginAccepted(parts[0], 0, 'S', first)
        for (let s = first; s <= (n === 1 ? 5 : 8); s++) {
          const p = payload(s), h = Buffer.alloc(3); writeSequencedHeader(h, 0, p.length); parts.push(h, p)
        }
        sock.write(Buffer.concat(parts))
        if (n === 1) setTimeout(() => sock.destroy(), 20)
      })
      sock.on('error', () => {})
    })
    raws.push(raw)
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r))
    const { sink, stats } = startClient((raw.address() as net.AddressInfo).port)
    await waitFor(() => sink.seqs.length >= 8, 3000, 'messages')
    await sleep(20)
    expect(sink.seqs).toEqual(range(1, 8))
    expect(requests).toEqual([1, 6])
    expect([stats.duplicates, stats.reconnects, stats.gaps]).toEqual([3, 1, 0])
  })

  it('asks resumeFrom at every login and requests the sequence it answers (an A/B arbiter moves a line ahead)', async () => {
    const requests: number[] = [], asked: number[] = []
    const raw = net.createServer((sock) => {
      sock.once('data', (login) => {
        const first = Number(login.toString('latin1', 29, 49).trim()), n = requests.push(first)
        const parts: Buffer[] = [Buffer.alloc(LOGIN_ACCEPTED_BYTES)]
        writeLoginAccepted(parts[0], 0, 'S', first)
        for (let s = first; s < first + (n === 1 ? 5 : 3); s++) {
          const p = payload(s), h = Buffer.alloc(3); writeSequencedHeader(h, 0, p.length); parts.push(h, p)
        }
        sock.write(Buffer.concat(parts))
        if (n === 1) setTimeout(() => sock.destroy(), 20)
      })
      sock.on('error', () => {})
    })
    raws.push(raw)
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r))
    const resumeFrom = (lineNextSeq: number): number => asked.push(lineNextSeq) === 1 ? lineNextSeq : lineNextSeq + 10
    const { client, sink, stats } = startClient((raw.address() as net.AddressInfo).port, { resumeFrom })
    await waitFor(() => sink.seqs.length >= 8, 3000, 'messages')
    expect(asked).toEqual([1, 6])
    expect(requests).toEqual([1, 16])
    expect(sink.seqs).toEqual([...range(1, 5), ...range(16, 18)])
    expect([client.nextExpectedSeq, stats.nextSeqGauge, stats.gaps]).toEqual([19, 19, 0]) // the skip is the arbiter's to judge
  })

  it('stops on End of Session without reconnecting', async () => {
    const { server, port } = await startServer()
    for (let s = 1; s <= 100; s++) server.append(payload(s), 0, payload(s).length)
    server.endSession()
    expect(server.append(payload(101), 0, 4)).toBe(-1)
    const { sink, stats, events } = startClient(port)
    await waitFor(() => events.some((e) => e.kind === SESSION_END), 3000, 'end of session')
    await sleep(150)
    expect(sink.seqs).toEqual(range(1, 100))
    expect([stats.endOfSession, stats.reconnects, stats.connected, server.counters.connections]).toEqual([1, 0, 0, 1])
  })

  it.each([
    ['a zero length', [0, 0, 0x53]],
    ['a length over maxFrameBytes', [0x10, 0x00, 0x53]],
  ])('counts a bad frame from the server (%s), reconnects and resumes without loss', async (_what, bytes) => {
    const { server, port } = await startServer(), proxy = await startProxy(port)
    const { sink, stats } = startClient(proxy.port, { maxFrameBytes: 1000 })
    await waitFor(() => server.loggedInCount === 1, 3000, 'login')
    for (let s = 1; s <= 500; s++) server.append(payload(s), 0, payload(s).length)
    await waitFor(() => sink.seqs.length >= 500, 3000, 'the first 500') // the stream is quiet, between two frames
    proxy.inject(Buffer.from(bytes)) // the stream cannot resync after this
    for (let s = 501; s <= 1000; s++) server.append(payload(s), 0, payload(s).length)
    await waitFor(() => sink.seqs.length >= 1000, 5000, 'all messages')
    expect(sink.seqs).toEqual(range(1, 1000))
    expect(stats.badFrames).toBe(1)
    expect(stats.reconnects).toBeGreaterThanOrEqual(1)
    expect(server.counters.logins).toBeGreaterThanOrEqual(2)
  })

  it('resumes at the next sequence after the server drops every connection', async () => {
    const { server, port } = await startServer(), proxy = await startProxy(port)
    const { sink, stats, events } = startClient(proxy.port)
    for (let round = 0; round < 5; round++) {
      await waitFor(() => server.loggedInCount === 1, 3000, 'login')
      for (let s = round * 300 + 1; s <= (round + 1) * 300; s++) server.append(payload(s), 0, payload(s).length)
      await waitFor(() => sink.seqs.length >= (round + 1) * 300, 3000, 'round ' + round)
      proxy.dropAll()
    }
    await waitFor(() => stats.reconnects >= 5 && stats.loggedIn === 1, 3000, 'last reconnect')
    expect(sink.seqs).toEqual(range(1, 1500))
    expect(events.filter((e) => e.kind === SESSION_DISCONNECTED).length).toBe(5)
    expect(stats.connected).toBe(1)
  })

  it('keeps retrying with backoff while nothing listens, then connects when the server appears', async () => {
    const probe = net.createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const port = (probe.address() as net.AddressInfo).port
    await new Promise((r) => probe.close(r))
    const { stats } = startClient(port, { backoffMinMs: 5, backoffMaxMs: 40 })
    await waitFor(() => stats.reconnects >= 3, 3000, 'refused attempts')
    expect(stats.connected).toBe(0)
    const server = new SoupServer({ port })
    servers.push(server)
    await server.listen()
    await waitFor(() => stats.loggedIn === 1, 3000, 'login once the server is up')
  })

  it('retries after Login Rejected with the reason in the event', async () => {
    const { server, port } = await startServer({ username: 'u', password: 'good' })
    const { stats, events } = startClient(port, { username: 'u', password: 'bad' })
    await waitFor(() => server.counters.rejected >= 2, 3000, 'second rejected login')
    expect(events.some((e) => e.kind === SESSION_DISCONNECTED && /not authorized \(A\)/.test(e.reason ?? ''))).toBe(true)
    expect(stats.loggedIn).toBe(0)
  })

  it('stop() is idempotent, logs out and frees the connection', async () => {
    const { server, port } = await startServer()
    const { client, stats } = startClient(port)
    await waitFor(() => stats.loggedIn === 1, 3000, 'login')
    const a = client.stop(), b = client.stop()
    expect(a).toBe(b)
    await a
    await waitFor(() => server.clientCount === 0, 2000, 'server sees the logout')
    expect([stats.connected, stats.loggedIn]).toEqual([0, 0])
  })
})
