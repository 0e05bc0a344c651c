import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { loadCaptureFile } from '../../feeds/replay/load-capture.js'
import { startReplay } from '../../feeds/replay/replayer.js'
import type { RunningReplay } from '../../feeds/replay/replayer.js'
import type { FeedConfig } from '../config.js'
import { createLogger } from '../log.js'
import { SharedSymbols, SYMBOL_PATTERN } from '../model/shared-symbols.js'
import { SymbolSequences } from '../normalize/normalizer.js'
import { TickRing } from '../ring/ring-buffer.js'
import { waitFor } from '../../test-support/wait-for.js'
import { ItchDecoder } from './decoders/itch.js'
import { Feed, decoderFor } from './feed.js'
import { FeedStats } from './feed-stats.js'

const ITCH = new URL('../../feeds/samples/itch50/bekele-first1000.itch', import.meta.url).pathname
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickcast-feed-'))
const replays: RunningReplay[] = [], feeds: Feed[] = []
afterEach(async () => {
  await Promise.all(feeds.splice(0).map((f) => f.stop()))
  await Promise.all(replays.splice(0).map((r) => r.stop()))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function feed(config: Partial<FeedConfig> & Pick<FeedConfig, 'lines' | 'protocol'>, symbols: SharedSymbols, record?: string): Feed {
  const f = new Feed({ name: 'f', username: '', password: '', session: '', startSeq: 1, ...config }, new TickRing(1 << 16), symbols,
    new SymbolSequences(4096), { heartbeatIntervalMs: 1000, deadAfterMs: 15_000, staleAfterMs: 5000 }, createLogger('silent'), { record, sessionDate: '2019-01-30' })
  feeds.push(f); f.start()
  return f
}

describe('Feed', () => {
  it('builds an ITCH decoder for itch feeds', () => {
    const sink = { defineSymbol: () => 0, locateOf: () => 0, quote: () => 0, trade: () => 0, status: () => 0 }
    expect(decoderFor('itch', sink, new FeedStats('x'), { sessionDate: '2023-08-22' })).toBeInstanceOf(ItchDecoder)
  })

  it('serves ITCH symbols from a replayed BinaryFILE over A/B lines and records the session replayably', async () => {
    const cap = loadCaptureFile(ITCH)
    const [a, b] = await Promise.all([startReplay({ capture: cap }), startReplay({ capture: cap })])
    replays.push(a, b)
    const symbols = new SharedSymbols(4096), file = path.join(dir, 'itch.tcap')
    const f = feed({ protocol: 'itch', lines: [{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }] }, symbols, file)
    await waitFor(() => f.stats.endOfSession === 1, 5000, 'End of Session on both lines')
    expect(f.stats.messages).toBe(1000)
    expect(f.stats.gaps).toBe(0)
    expect(f.stats.lines.map((l) => l.won).reduce((x, y) => x + y)).toBe(1000)
    expect(f.stats.duplicates).toBe(f.stats.lines[0].arbDuplicates + f.stats.lines[1].arbDuplicates)
    const directory = new Set<string>()
    for (let i = 0; i < cap.count; i++) {
      const o = cap.off[i], name = cap.buf.toString('latin1', o + 11, o + 19).trimEnd()
      if (cap.buf[o] === 0x52 && SYMBOL_PATTERN.test(name)) directory.add(name) // the alphabet refuses a few (counted by the decoder)
    }
    expect(directory.size).toBeGreaterThan(900)
    expect(symbols.size).toBe(directory.size) // every acceptable Stock Directory symbol reached the symbol table
    expect(symbols.idOf([...directory][0])).toBeGreaterThanOrEqual(0)
    await f.stop()
    const rec = loadCaptureFile(file)
    expect([rec.format, rec.protocol, rec.count]).toEqual(['tickcast', 'itch', 1000])
    for (let i = 0; i < 1000; i++) {
      if (!rec.buf.subarray(rec.off[i], rec.off[i] + rec.len[i]).equals(cap.buf.subarray(cap.off[i], cap.off[i] + cap.len[i]))) throw new Error(`record ${i} differs`)
    }
  })
})
