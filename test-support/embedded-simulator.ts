// Owns the embedded simulator that tests inject into startTickcast when they configure no feed.
// Must never be used by the product: src/main.ts passes the worker-thread one (feeds/sim/embedded.ts).
// Why in-process: vitest runs the TypeScript sources and a worker thread loads only JavaScript; the real
// worker path is exercised by src/main.test.ts, which runs dist/src/main.js as a process.
import type { EmbeddedSimulator, EmbeddedSimulatorOptions } from '../src/embedded-feed.js'
import { startSimulator } from '../feeds/sim/simulator.js'

export async function startInProcessSimulator(opts: EmbeddedSimulatorOptions): Promise<EmbeddedSimulator> {
  const sim = await startSimulator({ port: opts.port, symbols: opts.symbols, rate: opts.rate, seed: opts.seed })
  return { port: sim.port, stop: () => sim.stop() }
}
