// The Prometheus helper starts a real server that answers queries, and stop() frees its port and temp dir.
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { binaryAvailable, PROMETHEUS_BIN, startPrometheus } from './prometheus.js'

const have = await binaryAvailable(PROMETHEUS_BIN)
if (!have) console.warn(`\n!!! ${PROMETHEUS_BIN} not found: Prometheus helper test SKIPPED (CI never skips)\n`)

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

describe('startPrometheus', () => {
  it('fails in CI when prometheus is missing', () => {
    if (process.env.CI) expect(have, 'prometheus is required in CI').toBe(true)
  })

  it.runIf(have)('answers instant queries and frees its port and data dir on stop', async () => {
    const p = await startPrometheus({ targets: ['127.0.0.1:1'] })
    try {
      const r = await p.query('vector(42)')
      expect(r.status).toBe('success')
      expect(r.result[0].value[1]).toBe('42')
      const bad = await p.query('sum(')
      expect(bad.status).toBe('error')
      expect(await canBind(p.port)).toBe(false)
      expect(existsSync(p.dir)).toBe(true)
    } finally {
      await p.stop()
    }
    await p.stop() // idempotent
    expect(await canBind(p.port)).toBe(true)
    expect(existsSync(p.dir)).toBe(false)
  })
})
