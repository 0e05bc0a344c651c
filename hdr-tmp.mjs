import { headers } from 'nats'
import { performance } from 'node:perf_hooks'
const N = 300000, feed = 'sim'
function run(withFeed) {
  let bytes = 0
  const t0 = performance.now()
  for (let i = 0; i < N; i++) {
    const h = headers(); h.set('Nats-Msg-Id', `bench:AAPL:q:${i}:0`); if (withFeed) h.set('Tickcast-Feed', feed)
    bytes += h.encode().length
  }
  return [(performance.now() - t0) / N * 1000, bytes / N]
}
for (let r = 0; r < 3; r++) { const a = run(false), b = run(true); console.log(`without ${a[0].toFixed(3)} us ${a[1]} B | with ${b[0].toFixed(3)} us ${b[1]} B`) }
