// Owns the list of scenarios the bench CLI knows, in the order `--help` shows them.
// Must never hold scenario logic: each scenario is one file in bench/scenarios/ implementing Scenario (scenario.ts).
import type { Scenario } from './scenario.js'
import { connect } from '../scenarios/connect.js'
import { fanout } from '../scenarios/fanout.js'
import { feed } from '../scenarios/feed.js'
import { latency } from '../scenarios/latency.js'
import { mqttScenario } from '../scenarios/mqtt.js'
import { saturation } from '../scenarios/saturation.js'
import { snapshot } from '../scenarios/snapshot.js'
import { soak } from '../scenarios/soak.js'

const scenarios: Scenario[] = [
  fanout,
  latency,
  connect,
  snapshot,
  mqttScenario,
  soak,
  feed,
  // scenarios of this branch are added above the saturation line as they land
  saturation,
]

export function allScenarios(): readonly Scenario[] { return scenarios }

export function findScenario(name: string): Scenario | undefined { return scenarios.find((s) => s.name === name) }
