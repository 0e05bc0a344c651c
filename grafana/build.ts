// Owns generating grafana/dashboards/*.json from the typed sources in grafana/dashboards-src (`npm run grafana:build`).
// Must never be hand-edited around: the JSON is an output, and a test fails when it differs from buildDashboards().
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Dashboard } from '@grafana/schema'
import { busDashboard } from './dashboards-src/bus.js'
import { fanoutDashboard } from './dashboards-src/fanout.js'
import { feedsDashboard } from './dashboards-src/feeds.js'
import { fleetDashboard } from './dashboards-src/fleet.js'
import { mqttDashboard } from './dashboards-src/mqtt.js'
import { overviewDashboard } from './dashboards-src/overview.js'

/** File name (under grafana/dashboards) → dashboard. Pure: same output on every call. */
export function buildDashboards(): Record<string, Dashboard> {
  return {
    'tickcast-overview.json': overviewDashboard(),
    'tickcast-feeds.json': feedsDashboard(),
    'tickcast-fanout.json': fanoutDashboard(),
    'tickcast-mqtt.json': mqttDashboard(),
    'tickcast-fleet.json': fleetDashboard(),
    'tickcast-bus.json': busDashboard(),
  }
}

/** The exact bytes written for a dashboard (2-space JSON, trailing newline). */
export function serialize(d: Dashboard): string {
  return JSON.stringify(d, null, 2) + '\n'
}

function main(): void {
  const dir = resolve(process.argv[2] ?? join('grafana', 'dashboards'))
  mkdirSync(dir, { recursive: true })
  for (const [file, d] of Object.entries(buildDashboards())) {
    writeFileSync(join(dir, file), serialize(d))
    process.stdout.write(`wrote ${join(dir, file)}\n`)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main()
