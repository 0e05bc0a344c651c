import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Framer } from '../src/feed/framer.js'
import { SoupServer } from './soup-server.js'
import type { SoupServerOptions } from './soup-server.js'
import {
  LOGIN_REQUEST_BYTES, PKT_END_OF_SESSION, PKT_LOGIN_ACCEPTED, PKT_LOGIN_REJECTED, PKT_SEQUENCED,
  PKT_SERVER_HEARTBEAT, acceptedSeq, writeLoginRequest,
} from '../src/feed/soupbin.js'
import { sleep, waitFor } from '../test-support/wait-for.js'

/** A bare SoupBinTCP client that records what the server sends (payload = u32 BE seq + filler). */
class RawClient {
  readonly sock: net.Socket
  accepted = -1
  rejected = -1
  seqs: number[] = []
  heartbeats = 0
  ends = 0
  closed = false
  private readonly framer = new Framer((buf, off, len) => {
    const t = buf[off]
    if (t === PKT_SEQUENCED) this.seqs.push(buf.readUInt32BE(off + 1))
    else if (t === PKT_LOGIN_ACCEPTED) this.accepted = acceptedSeq(buf, off, len)
    else if (t === PKT_LOGIN_REJECTED) this.rejected = buf[off + 1]
    else if (t === PKT_SERVER_HEARTBEAT) this.heartbeats++
    else if (t === PKT_END_OF_SESSION) this.ends++
  })
  constructor(port: number, requestedSeq: number, user = '', pass = '', session = '') {
    this.sock = net.connect({ host: '127.0.0.1', port })
    const login = Buffer.alloc(LOGIN_REQUEST_BYTES)
    writeLoginRequest(login, 0, user, pass, session, requestedSeq)
    this.sock.write(login)
    this.sock.on('data', (c: Buffer) => { this.framer.push(c) })
    this.sock.on('close', () => { this.closed = true })
    this.sock.on('error', () => {})
  }
}

function msg(seq: number, len = 16): Buffer {
  const b = Buffer.alloc(len, seq & 255)
  b.writeUInt32BE(seq, 0)
  return b
}
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const servers: SoupServer[] = [], raws: RawClient[] = []
afterEach(async () => {
  for (const r of raws.splice(0)) r.sock.destroy()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})
async function start(opts: SoupServerOptions = {}): Promise<{ server: SoupServer, port: number }> {
  const server = new SoupServer(opts)
  servers.push(server)
  return { server, port: await server.listen() }
}
function raw(port: number, seq: number, user = '', pass = '', session = ''): RawClient {
  const r = new RawClient(port, seq, user, pass, session)
  raws.push(r)
  return r
}

describe('SoupServer', () => {
  it('numbers appends from 1 and replays from the requested seq, then streams live', async () => {
    const { server, port } = await start()
    expect([server.append(msg(1), 0, 16), server.append(msg(2), 0, 16), server.nextSeq]).toEqual([1, 2, 3])
    for (let s = 3; s <= 100; s++) server.append(msg(s), 0, 16)
    const r = raw(port, 50)
    await waitFor(() => r.seqs.length >= 51, 2000, 'replay')
    for (let s = 101; s <= 120; s++) server.append(msg(s), 0, 16)
    await waitFor(() => r.seqs.length >= 71, 2000, 'live')
    expect(r.accepted).toBe(50)
    expect(r.seqs).toEqual(range(50, 120))
  })

  it("starts a '0' login at the next live message and clamps old requests to the oldest retained", async () => {
    const { server, port } = await start({ recoveryBytes: 4096, blockBytes: 1024 })
    for (let s = 1; s <= 1000; s++) server.append(msg(s), 0, 16)
    const live = raw(port, 0), old = raw(port, 1)
    await waitFor(() => live.accepted > 0 && old.accepted > 0, 2000, 'logins')
    server.append(msg(1001), 0, 16)
    await waitFor(() => live.seqs.length >= 1, 2000, 'live message')
    expect(live.accepted).toBe(1001)
    expect(live.seqs).toEqual([1001])
    expect(old.accepted).toBe(server.oldestSeq)
    expect(old.accepted).toBeGreaterThan(1)
    await waitFor(() => old.seqs.length >= 1001 - old.accepted + 1, 2000, 'replay')
    expect(old.seqs).toEqual(range(old.accepted, 1001))
  })

  it('serves several concurrent clients the same complete stream', async () => {
    const { server, port } = await start()
    const rs = [raw(port, 1), raw(port, 1), raw(port, 1)]
    await waitFor(() => server.loggedInCount === 3, 2000, 'logins')
    const N = 100_000
    for (let s = 1; s <= N; s++) { server.append(msg(s), 0, 16); if (s % 10_000 === 0) await sleep(1) }
    await waitFor(() => rs.every((r) => r.seqs.length >= N), 5000, 'all clients')
    for (const r of rs) { expect(r.seqs.length).toBe(N); expect(r.seqs[N - 1]).toBe(N); expect(r.seqs[0]).toBe(1) }
    for (const r of rs) expect(r.seqs.every((s, i) => s === i + 1)).toBe(true)
  })

  it('lets a paused client catch up from the store without holding back a fast one', async () => {
    const { server, port } = await start({ clientBufferBytes: 64 * 1024 })
    const slow = raw(port, 1), fast = raw(port, 1)
    await waitFor(() => server.loggedInCount === 2, 2000, 'logins')
    slow.sock.pause()
    const N = 200_000 // 20 B packets: 4 MB, far beyond the 64 KiB client buffer limit
    for (let s = 1; s <= N; s++) { server.append(msg(s), 0, 17); if (s % 20_000 === 0) await sleep(1) }
    await waitFor(() => fast.seqs.length >= N, 5000, 'fast client')
    expect(slow.seqs.length).toBeLessThan(N)
    slow.sock.resume()
    await waitFor(() => slow.seqs.length >= N, 5000, 'slow client catch-up')
    expect(slow.seqs.every((s, i) => s === i + 1)).toBe(true)
    expect(server.counters.slowDropped).toBe(0)
  })

  it('drops a paused client that falls out of the recovery store, and counts it', async () => {
    const { server, port } = await start({ clientBufferBytes: 16 * 1024, recoveryBytes: 256 * 1024, blockBytes: 16 * 1024 })
    const slow = raw(port, 1), fast = raw(port, 1)
    await waitFor(() => server.loggedInCount === 2, 2000, 'logins')
    slow.sock.pause()
    const N = 400_000 // 8 MB through a 256 KiB store
    // the fast client is kept within 100 KB of the head (it shares this process: on a loaded machine it could fall
    // out of the store too); the paused one cannot keep up whatever the pace
    for (let s = 1; s <= N; s++) {
      server.append(msg(s), 0, 17)
      if (s % 5_000 === 0) await waitFor(() => fast.seqs.length >= s - 5_000, 5000, 'fast client within the store')
    }
    await waitFor(() => fast.seqs.length >= N && server.counters.slowDropped === 1, 5000, 'fast client + slow drop')
    slow.sock.resume()
    await waitFor(() => slow.closed, 2000, 'slow client closed')
    expect(slow.seqs.length).toBeLessThan(N)
    expect(fast.seqs.every((s, i) => s === i + 1)).toBe(true)
  })

  it('heartbeats idle clients and drops silent ones after deadAfterMs', async () => {
    const { server, port } = await start({ heartbeatIntervalMs: 40, deadAfterMs: 250 })
    const r = raw(port, 1)
    const t0 = performance.now()
    await waitFor(() => r.closed, 2000, 'dead client dropped')
    const after = performance.now() - t0
    expect(after).toBeGreaterThanOrEqual(200)
    expect(after).toBeLessThan(250 + 250)
    expect(r.heartbeats).toBeGreaterThanOrEqual(3)
    expect(server.counters.deadDropped).toBe(1)
  })

  it("rejects bad credentials with 'A' and an unknown session with 'S'", async () => {
    const { server, port } = await start({ sessionId: 'SESS1', username: 'u', password: 'p' })
    const bad = raw(port, 1, 'u', 'x'), wrongSession = raw(port, 1, 'u', 'p', 'OTHER'), ok = raw(port, 1, 'u', 'p', 'SESS1')
    await waitFor(() => bad.closed && wrongSession.closed && ok.accepted === 1, 2000, 'login answers')
    expect([bad.rejected, wrongSession.rejected, ok.rejected]).toEqual([0x41, 0x53, -1])
    expect(server.counters.rejected).toBe(2)
  })

  it("sends 'Z' after everything, refuses later appends, and closes idempotently freeing the port", async () => {
    const { server, port } = await start()
    const r = raw(port, 1)
    await waitFor(() => server.loggedInCount === 1, 2000, 'login')
    for (let s = 1; s <= 10; s++) server.append(msg(s), 0, 16)
    server.endSession()
    expect(server.append(msg(11), 0, 16)).toBe(-1)
    await waitFor(() => r.ends === 1, 2000, 'end of session')
    expect(r.seqs).toEqual(range(1, 10))
    const a = server.close(), b = server.close()
    expect(a).toBe(b)
    await a
    const again = net.createServer()
    await new Promise<void>((res, rej) => { again.once('error', rej); again.listen(port, '127.0.0.1', res) })
    await new Promise((res) => again.close(res))
  })
})
