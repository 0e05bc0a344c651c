import { describe, expect, it } from 'vitest'
import { PlainHistogram } from './histogram.js'
import { MetricsRegistry } from './registry.js'

describe('MetricsRegistry', () => {
  it('exposes plain counters, labelled samples and histograms at scrape time', async () => {
    const m = new MetricsRegistry(false)
    let n = 0
    const h = new PlainHistogram([0.001, 0.01])
    m.counter('tickcast_test_events_total', 'events seen', () => n)
    m.gauge('tickcast_test_connected', 'connected per feed', () => [{ labels: { feed: 'a' }, value: 1 }, { labels: { feed: 'b' }, value: 0 }])
    m.histogram('tickcast_test_age_seconds', 'age', () => h)
    n = 41; n++
    h.observe(0.0005); h.observe(0.005); h.observe(5)
    const { body } = await m.metrics()
    expect(body).toContain('# TYPE tickcast_test_events_total counter\ntickcast_test_events_total 42')
    expect(body).toContain('tickcast_test_connected{feed="a"} 1\ntickcast_test_connected{feed="b"} 0')
    expect(body).toContain('tickcast_test_age_seconds_bucket{le="0.001"} 1\ntickcast_test_age_seconds_bucket{le="0.01"} 2\ntickcast_test_age_seconds_bucket{le="+Inf"} 3')
    expect(body).toContain('tickcast_test_age_seconds_count 3')
  })
})
