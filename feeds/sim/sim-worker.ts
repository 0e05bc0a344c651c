// Owns running the feed simulator on its own thread for the server's embedded mode (the second core).
// Must never share state with the server: it speaks SoupBinTCP over loopback like any real feed.
import { parentPort, workerData } from 'node:worker_threads'
import { startSimulator } from './simulator.js'
import type { SimulatorOptions } from './simulator.js'

const sim = await startSimulator(workerData as SimulatorOptions)
parentPort!.postMessage({ port: sim.port })
parentPort!.on('message', async (m) => {
  if (m !== 'stop') return
  await sim.stop()
  parentPort!.postMessage({ stopped: true })
  parentPort!.close()
})
