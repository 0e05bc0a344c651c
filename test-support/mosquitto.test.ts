import { connectAsync } from 'mqtt'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startMosquitto } from './mosquitto.js'
import type { Mosquitto } from './mosquitto.js'

let broker: Mosquitto | null = null
afterEach(async () => { await broker?.stop(); broker = null })

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

describe('mosquitto test helper', () => {
  it('serves MQTT, dies on kill(), comes back on the same port, and stop() frees everything', async () => {
    const b = broker = await startMosquitto()
    const first = b.pid
    expect(first).toBeGreaterThan(0)
    const c1 = await connectAsync(b.url, { reconnectPeriod: 0 })
    await c1.endAsync()

    await b.kill()
    expect(b.pid).toBe(-1)
    expect(alive(first)).toBe(false)
    await expect(connectAsync(b.url, { reconnectPeriod: 0, connectTimeout: 500 })).rejects.toThrow()

    await b.restart()
    expect(b.pid).toBeGreaterThan(0)
    expect(b.pid).not.toBe(first)
    const c2 = await connectAsync(b.url, { reconnectPeriod: 0 })
    await c2.endAsync()

    const second = b.pid
    await b.stop()
    await b.stop() // idempotent
    expect(alive(second)).toBe(false)
    expect(await canListen(b.port)).toBe(true)
  })
})
