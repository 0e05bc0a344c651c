// The files docker-compose.yml wires together stay consistent: a valid Prometheus config, mounts that exist, and a
// provisioned datasource uid the dashboards default to.
import { existsSync, readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { binaryAvailable, PROMTOOL_BIN } from '../test-support/prometheus.js'
import { datasourceVar } from './dashboards-src/kit.js'

const DIR = import.meta.dirname
const promtool = await binaryAvailable(PROMTOOL_BIN)
if (!promtool) console.warn(`\n!!! ${PROMTOOL_BIN} not found: grafana/prometheus.yml check SKIPPED (CI never skips)\n`)

describe('grafana/ compose setup', () => {
  it('fails in CI when promtool is missing', () => {
    if (process.env.CI) expect(promtool, 'promtool is required in CI').toBe(true)
  })

  it.runIf(promtool)('prometheus.yml passes `promtool check config`', () => {
    const r = spawnSync(PROMTOOL_BIN, ['check', 'config', join(DIR, 'prometheus.yml')], { encoding: 'utf8', timeout: 10_000 })
    expect(r.stdout + r.stderr).toContain('SUCCESS')
    expect(r.status).toBe(0)
  })

  it('mounts only files that exist and builds tickcast with the Dockerfile beside it', () => {
    const compose = readFileSync(join(DIR, 'docker-compose.yml'), 'utf8')
    const mounts = [...compose.matchAll(/"?\.\/([\w./-]+):\/[\w./-]+(?::ro)?"?/g)].map((m) => m[1])
    expect(mounts.sort()).toEqual(['alerts', 'dashboards', 'mosquitto/mosquitto.conf', 'prometheus.yml', 'provisioning'])
    for (const m of mounts) expect(existsSync(join(DIR, m)), m).toBe(true)
    expect(compose).toContain('dockerfile: grafana/Dockerfile')
    expect(readFileSync(join(DIR, 'prometheus.yml'), 'utf8')).toContain("'tickcast:9464'")
    expect(readFileSync(join(DIR, 'Dockerfile'), 'utf8')).toMatch(/--port", "8080"/)
    expect(readFileSync(join(DIR, 'Dockerfile'), 'utf8')).toMatch(/--metrics-host", "0.0.0.0", "--metrics-port", "9464"/)
  })

  it('provisions the datasource uid the dashboards select by default', () => {
    const ds = readFileSync(join(DIR, 'provisioning/datasources/prometheus.yml'), 'utf8')
    const uid = /^\s+uid: (\S+)$/m.exec(ds)?.[1]
    expect(uid).toBe((datasourceVar.current as { value: string }).value)
    expect(readFileSync(join(DIR, 'provisioning/dashboards/tickcast.yml'), 'utf8')).toContain('path: /var/lib/grafana/dashboards')
  })
})
