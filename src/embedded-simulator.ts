// Owns starting the bundled feed simulator when no feed is configured, on a worker thread when compiled.
// Must never bypass TCP: the server connects to it like to any real SoupBinTCP feed.
import { Worker } from 'node:worker_threads'
import { startSimulator } from '../feeds/sim/simulator.js'
import type { SimulatorOptions } from '../feeds/sim/simulator.js'

export interface EmbeddedSimulator { port: number; stop(): Promise<void> }

/**
 * Compiled (`npm start`), the simulator runs on a worker thread so it has a core of its own; from the
 * TypeScript sources (tests) a worker cannot load .ts files, so it runs on the main thread.
 */
export async function startEmbeddedSimulator(opts: SimulatorOptions): Promise<EmbeddedSimulator> {
  if (!import.meta.url.endsWith('.js')) {
    const sim = await startSimulator(opts)
    return { port: sim.port, stop: () => sim.stop() }
  }
  const worker = new Worker(new URL('../feeds/sim/sim-worker.js', import.meta.url), { workerData: opts })
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port))
    worker.once('error', reject)
  })
  let stopping: Promise<void> | null = null
  return {
    port,
    stop: () => stopping ??= new Promise<void>((resolve) => {
      const done = (): void => resolve()
      worker.once('exit', done)
      worker.postMessage('stop')
      setTimeout(() => { void worker.terminate().then(done) }, 1500).unref()
    }),
  }
}
