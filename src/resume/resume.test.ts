// Resume (`since`) on a single node, end to end: a real simulator feed, a real server, real WebSocket clients.
// Within the ring the missed events are replayed (recovered: true); beyond it the client gets a snapshot.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'

interface Ev { e: string; s: string; n: number; type?: string; recovered?: Record<string, boolean>; epoch?: string }
const running: Stoppable[] = []
afterEach(() => stopAll(running))

/** Subscribes to `*` (optionally with since) and records data events and the ack. */
async function client(url: string, since?: Record<string, number>, epoch?: string): Promise<{ ws: WebSocket; events: Ev[]; ack: Promise<Ev> }> {
  const ws = new WebSocket(`${url}?format=json`), events: Ev[] = []
  running.push({ stop: async () => { ws.terminate() } })
  let ackResolve: (a: Ev) => void = () => {}
  const ack = new Promise<Ev>((r) => { ackResolve = r })
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as Ev | Ev[]
    if (Array.isArray(m)) events.push(...m)
    else if (m.type === 'subscribed') ackResolve(m)
  })
  await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j) })
  ws.send(JSON.stringify({ op: 'subscribe', symbols: ['*'], id: 1, since, epoch }))
  return { ws, events, ack }
}

const lastN = (events: Ev[]): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const e of events) if (e.e !== 'stale' && e.e !== 'fresh') out[e.s] = e.n
  return out
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('since: resume from the ring on one node', () => {
  it('replays exactly the missed events when the ring still holds them (recovered: true), then continues live', async () => {
    const sim = await simulator(running, 2000, 3, 8)
    const t = await tickcast(running, sim.port, {}, ['--ring-capacity', '65536'])
    const a = await client(t.url)
    const epoch = (await a.ack).epoch
    expect(epoch).toMatch(/^node-/) // no --stream-epoch: this process is its own stream
    await sleep(400)
    a.ws.terminate()
    const since = lastN(a.events)
    expect(Object.keys(since).length).toBeGreaterThan(3)
    await sleep(300) // events pass while the client is away
    const other = await client(t.url, since, 'another-stream') // sequences of another stream are never resumed
    for (const s of Object.keys(since)) expect((await other.ack).recovered?.[s], s).toBe(false)
    other.ws.terminate()
    const b = await client(t.url, since, epoch)
    const ack = await b.ack
    for (const s of Object.keys(since)) expect(ack.recovered?.[s], s).toBe(true)
    await sleep(300)
    await sim.stop(0)
    await sleep(300)
    const replayed = b.events.filter((e) => e.e !== 'stale' && e.e !== 'fresh')
    expect(replayed.some((e) => e.e === 'snap' && e.s in since)).toBe(false)
    for (const [s, n] of Object.entries(since)) {
      const mine = replayed.filter((e) => e.s === s).map((e) => e.n)
      expect(mine.length, s).toBeGreaterThan(0)
      mine.forEach((m, k) => expect(m, `${s} event ${k}`).toBe(n + 1 + k)) // no gap, no duplicate, from since + 1
      expect(mine[mine.length - 1], s).toBe(t.lvc.seq[t.symbols.idOf(s)])
    }
  })

  it('a node behind the client\'s since (another node got further) resumes with nothing replayed: no snapshot, its updates continue from its own n', async () => {
    const sim = await simulator(running, 2000, 4, 8)
    const t = await tickcast(running, sim.port, {}, ['--ring-capacity', '65536'])
    const a = await client(t.url)
    const epoch = (await a.ack).epoch
    await sleep(300)
    a.ws.terminate()
    // a client that got 3 events further on another node of the same stream
    const held = lastN(a.events), since = Object.fromEntries(Object.entries(held).map(([s, n]) => [s, n + 3]))
    const b = await client(t.url, since, epoch)
    const ack = await b.ack
    for (const s of Object.keys(since)) expect(ack.recovered?.[s], s).toBe(true)
    await sleep(300)
    await sim.stop(0)
    await sleep(200)
    const names = Object.keys(since)
    expect(names.length).toBeGreaterThan(3)
    let passed = 0
    for (const s of names) {
      const mine = b.events.filter((e) => e.s === s && e.e !== 'stale' && e.e !== 'fresh')
      expect(mine.some((e) => e.e === 'snap'), s).toBe(false)
      // nothing replayed (the node's position is past what client a got from it), nothing skipped after it
      if (mine.length > 0) expect(mine[0].n, s).toBeGreaterThan(held[s])
      mine.forEach((e, k) => { if (k > 0) expect(e.n, `${s} event ${k}`).toBe(mine[k - 1].n + 1) })
      if (mine.some((e) => e.n > since[s])) passed++
    }
    expect(passed).toBeGreaterThan(0) // the stream went past the client's since: live from there on
  })

  it('sends a snapshot (recovered: false) when the ring no longer holds the missed events', async () => {
    const sim = await simulator(running, 4000, 5, 4)
    const t = await tickcast(running, sim.port, {}, ['--ring-capacity', '1024'])
    const a = await client(t.url)
    const epoch = (await a.ack).epoch
    await sleep(200)
    a.ws.terminate()
    const since = lastN(a.events)
    await sleep(800) // ≫ 1024 events
    const b = await client(t.url, since, epoch)
    const ack = await b.ack
    const names = Object.keys(since)
    for (const s of names) expect(ack.recovered?.[s], s).toBe(false)
    await sleep(200)
    for (const s of names) {
      const first = b.events.find((e) => e.s === s && e.e !== 'stale' && e.e !== 'fresh')
      expect(first?.e, s).toBe('snap')
      expect(first!.n, s).toBeGreaterThan(since[s] + 1)
    }
  })
})
