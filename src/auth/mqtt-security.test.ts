// MQTT security with a real mosquitto: broker-side ACLs (a user allowed md/v1/quotes/AAPL cannot read MSFT) and tickcast
// publishing over TLS to a listener with require_certificate, certificates made by openssl in the test.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import type { MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../test-support/auth.js'
import { makeCerts } from '../../test-support/certs.js'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { forBroker, mosquittoAvailable, startMosquitto } from '../../test-support/mosquitto.js'
import { freePort } from '../../test-support/processes.js'
import { sleep, waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))
const haveMosquitto = await mosquittoAvailable()
if (!haveMosquitto && process.env.CI) throw new Error('mosquitto is required in CI')

async function topicsSeen(c: MqttClient, filter: string, ms: number): Promise<Set<string>> {
  const seen = new Set<string>()
  c.on('message', (topic) => { seen.add(topic) })
  await c.subscribeAsync(filter)
  await sleep(ms)
  return seen
}

describe.skipIf(!haveMosquitto)('MQTT security (mosquitto)', () => {
  it('ACL file: tickcast publishes everything, a user allowed md/v1/quotes/AAPL reads AAPL and never MSFT', async () => {
    const dir = tempDir(), pw = join(dir, 'passwd'), acl = join(dir, 'acl')
    writeFileSync(pw, '')
    execFileSync('mosquitto_passwd', ['-b', pw, 'tickcast', 'pub-secret'])
    execFileSync('mosquitto_passwd', ['-b', pw, 'alice', 'alice-secret'])
    writeFileSync(acl, ['user tickcast', 'topic readwrite md/v1/#', '', 'user alice', 'topic read md/v1/quotes/AAPL', ''].join('\n'))
    forBroker(dir)
    const broker = await startMosquitto({ extraConfig: `allow_anonymous false\npassword_file ${pw}\nacl_file ${acl}` })
    running.push(broker)
    const sim = await simulator(running, 2000)
    const t = await tickcast(running, sim.port, {}, ['--mqtt-url', broker.url, '--mqtt-username', 'tickcast', '--mqtt-password', 'pub-secret', '--mqtt-protocol', '4'])
    await waitFor(() => t.mqtt!.stats.connected === 1, 5000, 'tickcast connected')
    const alice = await connectAsync(broker.url, { username: 'alice', password: 'alice-secret', reconnectPeriod: 0 })
    running.push({ stop: () => alice.endAsync() })
    const seen = await topicsSeen(alice, 'md/v1/#', 1500)
    expect([...seen]).toEqual(['md/v1/quotes/AAPL'])
    // asking for MSFT by name changes nothing
    const msft = await connectAsync(broker.url, { username: 'alice', password: 'alice-secret', reconnectPeriod: 0 })
    running.push({ stop: () => msft.endAsync() })
    expect((await topicsSeen(msft, 'md/v1/quotes/MSFT', 1000)).size).toBe(0)
    await expect(connectAsync(broker.url, { username: 'alice', password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow()
  })

  it('publishes over TLS to a listener with require_certificate: CA file, client certificate and key, server name', async () => {
    const dir = tempDir(), certs = makeCerts(dir)
    forBroker(dir)
    const tlsPort = await freePort('127.0.0.1')
    const broker = await startMosquitto({ extraConfig: [`listener ${tlsPort} 127.0.0.1`, `cafile ${certs.ca}`, `certfile ${certs.serverCert}`,
      `keyfile ${join(dir, 'server-plain.key')}`, 'require_certificate true', 'tls_version tlsv1.2'].join('\n') })
    running.push(broker)
    const url = `mqtts://127.0.0.1:${tlsPort}`
    const sim = await simulator(running, 1000)
    const t = await tickcast(running, sim.port, {}, ['--mqtt-url', url, '--mqtt-ca-file', certs.ca, '--mqtt-cert-file', certs.clientCert,
      '--mqtt-key-file', certs.clientKey, '--mqtt-servername', 'localhost'])
    await waitFor(() => t.mqtt!.stats.connected === 1, 8000, 'tickcast connected over TLS')
    const ca = readFileSync(certs.ca), cert = readFileSync(certs.clientCert), key = readFileSync(certs.clientKey)
    const reader = await connectAsync(url, { ca, cert, key, servername: 'localhost', reconnectPeriod: 0 })
    running.push({ stop: () => reader.endAsync() })
    expect((await topicsSeen(reader, 'md/v1/quotes/#', 1000)).size).toBeGreaterThan(0)
    // without a client certificate the broker refuses the handshake
    await expect(connectAsync(url, { ca, servername: 'localhost', reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow()
  }, 30_000)
})
