// Owns running the feed simulator on a worker thread for tickcast's embedded mode (no --feed): the second core.
// Must never share state with the server: the server connects to it over loopback TCP like to any real feed.
import { Worker } from 'node:worker_threads'
import type { EmbeddedSimulator, EmbeddedSimulatorOptions } from '../../src/embedded-feed.js'
import type { SimulatorOptions } from './simulator.js'

/** how long stop() waits for the worker's end of session before terminating it */
const STOP_GRACE_MS = 1500

/**
 * Starts feeds/sim/sim-worker.js next to this module, so it runs from the compiled tree (dist/feeds/sim/):
 * worker threads load JavaScript only. Tests that run from the TypeScript sources inject an in-process
 * simulator instead (test-support/embedded-simulator.ts); src/main.test.ts runs this one through dist/.
 */
export async function startEmbeddedSimulator(opts: EmbeddedSimulatorOptions): Promise<EmbeddedSimulator> {
  const workerData: SimulatorOptions = { port: opts.port, symbols: opts.symbols, rate: opts.rate, seed: opts.seed }
  const worker = new Worker(new URL('./sim-worker.js', import.meta.url), { workerData })
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port))
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`simulator worker exited (code ${code}) before listening`)))
  })
  let stopping: Promise<void> | null = null
  return {
    port,
    stop: () => stopping ??= new Promise<void>((resolve) => {
      const done = (): void => resolve()
      worker.once('exit', done)
      worker.postMessage('stop')
      setTimeout(() => { void worker.terminate().then(done) }, STOP_GRACE_MS).unref()
    }),
  }
}
