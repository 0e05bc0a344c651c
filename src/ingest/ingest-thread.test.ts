import { describe, expect, it } from 'vitest'
import { BootError } from '../errors.js'
import { ingestOnThread } from './ingest-thread.js'

const base = { ingestThread: 'auto' as const, source: [] as string[], bus: [] as string[], ringCapacity: 1 << 20 }

describe('--ingest-thread', () => {
  it('auto runs ingest on its own thread only where it can: from dist/, on x86-64, no edge, no bus, ring ≥ 16384', () => {
    expect(ingestOnThread(base, 'x64', true)).toBe(true)
    expect(ingestOnThread(base, 'x64', false)).toBe(false) // the TypeScript sources (vitest): the worker is JavaScript only
    expect(ingestOnThread(base, 'arm64', true)).toBe(false)
    expect(ingestOnThread({ ...base, source: ['nats://h:4222'] }, 'x64', true)).toBe(false)
    expect(ingestOnThread({ ...base, bus: ['nats://h:4222'] }, 'x64', true)).toBe(false)
    expect(ingestOnThread({ ...base, ringCapacity: 8192 }, 'x64', true)).toBe(false)
  })

  it('off never does; on refuses to start where it cannot, saying why', () => {
    expect(ingestOnThread({ ...base, ingestThread: 'off' }, 'x64', true)).toBe(false)
    expect(ingestOnThread({ ...base, ingestThread: 'on' }, 'x64', true)).toBe(true)
    const on = { ...base, ingestThread: 'on' as const }
    for (const [c, arch, why] of [[{ ...on, source: ['nats://h:4222'] }, 'x64', '--source'], [on, 'arm64', 'x86-64'],
      [{ ...on, ringCapacity: 1024 }, 'x64', '16384']] as const) {
      let err: unknown = null
      try { ingestOnThread(c, arch, true) } catch (e) { err = e }
      expect(err).toBeInstanceOf(BootError)
      expect((err as BootError).code).toBe('INGEST_THREAD')
      expect((err as BootError).message).toContain(why)
    }
  })
})
