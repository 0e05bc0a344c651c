// A feed that sends random bytes after Login Accepted, over real sockets at 10 seeds: the line counts a bad frame,
// drops the connection and logs in again at last + 1 every time, never takes a stray byte for End of Session, and a
// good feed beside it loses nothing.
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { SoupServer } from '../../feeds/soup-server.js'
import { seededRandom } from '../../test-support/seeded-random.js'
import { waitFor } from '../../test-support/wait-for.js'
import { FeedStats } from './feed-stats.js'
import { SESSION_DISCONNECTED, SESSION_END } from './session-sink.js'
import type { SessionEvent, SessionSink } from './session-sink.js'
import { SoupClient } from './soup-client.js'
import { LOGIN_ACCEPTED_BYTES, LOGIN_REQUEST_BYTES, OFF_LOGIN_SEQ, SEQ_LEN, readNumeric, writeLoginAccepted } from './soupbin.js'

class Counting implements SessionSink {
  seqs: number[] = []
  beginBatch(): void {}
  endBatch(): void {}
  message(buf: Buffer, off: number, len: number, seq: number): void { if (buf.readUInt32BE(off) === seq && len === 8) this.seqs.push(seq) }
}

/** Answers every login with Login Accepted at the requested sequence, then 64 KiB of seeded random bytes. */
async function garbageServer(seed: number) {
  const rnd = seededRandom(seed), requested: number[] = []
  const server = net.createServer((sock) => {
    let got = Buffer.alloc(0)
    sock.on('error', () => {})
    sock.on('data', (d) => {
      if (got.length >= LOGIN_REQUEST_BYTES) return
      got = Buffer.concat([got, d])
      if (got.length < LOGIN_REQUEST_BYTES) return
      const seq = readNumeric(got, OFF_LOGIN_SEQ, SEQ_LEN)
      requested.push(seq)
      const acc = Buffer.alloc(LOGIN_ACCEPTED_BYTES); writeLoginAccepted(acc, 0, 'GARBAGE', Math.max(1, seq))
      const junk = Buffer.alloc(65536); for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rnd() * 256)
      sock.write(Buffer.concat([acc, junk]))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, port: (server.address() as net.AddressInfo).port, requested }
}

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c() })

describe('SoupClient against a feed that sends garbage', () => {
  it('reconnects at last + 1 after random bytes at 10 seeds, counts bad frames; the good feed beside it loses nothing', async () => {
    const good = new SoupServer(), goodPort = await good.listen()
    cleanup.push(() => good.close())
    const goodSink = new Counting(), goodStats = new FeedStats('good')
    const goodClient = new SoupClient({ name: 'good', host: '127.0.0.1', port: goodPort, username: '', password: '' }, goodSink, goodStats)
    cleanup.push(() => goodClient.stop())
    goodClient.start()
    let published = 0
    const pay = Buffer.alloc(8)
    const publish = (n: number): void => { for (let k = 0; k < n; k++) { pay.writeUInt32BE(++published, 0); good.append(pay, 0, 8) } good.flush() }
    for (let seed = 1; seed <= 10; seed++) {
      const bad = await garbageServer(seed * 7919)
      const stats = new FeedStats('bad'), events: SessionEvent[] = []
      const client = new SoupClient({ name: 'bad', host: '127.0.0.1', port: bad.port, username: '', password: '', backoffMinMs: 2,
        backoffMaxMs: 40, deadAfterMs: 2000, maxMessageBytes: 50, maxFrameBytes: 1024 }, new Counting(), stats, (e) => events.push(e))
      client.start()
      publish(500)
      await waitFor(() => bad.requested.length >= 3, 10_000, `seed ${seed}: reconnects`)
      await client.stop()
      await new Promise((r) => bad.server.close(r))
      expect(stats.badFrames, `seed ${seed}`).toBeGreaterThanOrEqual(2)
      expect(stats.reconnects, `seed ${seed}`).toBeGreaterThanOrEqual(2)
      expect(events.filter((e) => e.kind === SESSION_END), `seed ${seed}`).toEqual([])
      // every login after the first asks for the message after the last one the line delivered (last + 1)
      const drops = events.filter((e) => e.kind === SESSION_DISCONNECTED)
      expect(bad.requested[0]).toBe(1)
      for (let k = 1; k < bad.requested.length; k++) expect(bad.requested[k], `seed ${seed} login ${k}`).toBe(drops[k - 1].fromSeq)
      expect(drops.filter((e) => e.reason?.startsWith('bad frame')).length, `seed ${seed}`).toBe(stats.badFrames)
    }
    await waitFor(() => goodSink.seqs.length === published, 10_000, 'good feed complete')
    expect(goodSink.seqs).toEqual(Array.from({ length: published }, (_, i) => i + 1))
    expect([goodStats.badFrames, goodStats.gaps, goodStats.reconnects]).toEqual([0, 0, 0])
  })

  it('takes End of Session only when well-formed: a Z with a payload is a bad frame, the next well-formed Z ends it', async () => {
    let logins = 0
    const server = net.createServer((sock) => {
      sock.on('error', () => {})
      sock.once('data', () => {
        const acc = Buffer.alloc(LOGIN_ACCEPTED_BYTES); writeLoginAccepted(acc, 0, 'S', 1)
        sock.write(Buffer.concat([acc, Buffer.from(++logins === 1 ? [0, 2, 0x5a, 0x5a] : [0, 1, 0x5a])]))
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanup.push(() => new Promise((r) => server.close(r)))
    const stats = new FeedStats('z'), events: SessionEvent[] = []
    const client = new SoupClient({ name: 'z', host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, username: '', password: '',
      backoffMinMs: 2, backoffMaxMs: 10 }, new Counting(), stats, (e) => events.push(e))
    cleanup.push(() => client.stop())
    client.start()
    await waitFor(() => events.some((e) => e.kind === SESSION_END), 5000, 'end of session')
    expect([logins, stats.badFrames, stats.endOfSession]).toEqual([2, 1, 1])
  })
})
