// Owns the Prometheus registry: metrics that read tickcast's plain counters at scrape time, plus process defaults.
// Must never be touched by the hot path: nothing here runs per message, only when /metrics is scraped.
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { PlainHistogram } from './histogram.js'

type Labels = Record<string, string>
export interface Sample { labels?: Labels; value: number }
type MetricType = 'counter' | 'gauge' | 'histogram'

/** A prom-client compatible metric whose samples are computed from plain numbers when scraped. */
class ScrapedMetric {
  readonly aggregator = 'sum'
  constructor(readonly name: string, readonly help: string, readonly type: MetricType, private readonly read: () => Sample[]) {}
  async get(): Promise<{ name: string; help: string; type: MetricType; aggregator: string; values: Array<{ metricName?: string; labels: Labels; value: number }> }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.read().map((s) => ({ labels: s.labels ?? {}, value: s.value })) }
  }
}

class ScrapedHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  constructor(readonly name: string, readonly help: string, private readonly read: () => Array<{ labels: Labels; h: PlainHistogram }>) {}
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: string; values: Array<{ metricName: string; labels: Labels; value: number }> }> {
    const values: Array<{ metricName: string; labels: Labels; value: number }> = []
    for (const { labels, h } of this.read()) {
      let cumulative = 0
      for (let k = 0; k < h.bounds.length; k++) {
        cumulative += h.counts[k]
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: String(h.bounds[k]) }, value: cumulative })
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count })
      values.push({ metricName: `${this.name}_sum`, labels, value: h.sum })
      values.push({ metricName: `${this.name}_count`, labels, value: h.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}

/** prom-client default metrics that promtool rejects: gauges with a `_total` suffix, duplicates of `sum by ()` of a sibling */
export const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const

export class MetricsRegistry {
  /** tickcast's own metrics: `promtool check metrics` runs against this one */
  readonly app = new Registry()
  /** Node.js process metrics (prom-client defaults, minus the three that fail promtool's lint) */
  readonly process = new Registry()
  readonly names: string[] = []

  constructor(withProcessMetrics = true) {
    if (!withProcessMetrics) return
    collectDefaultMetrics({ register: this.process, eventLoopMonitoringPrecision: 10 })
    // prom-client exports these as gauges named *_total (prometheus/client_js#283), which promtool rejects. Each is
    // the sum over the `type` label of its lint-clean sibling (nodejs_active_handles etc.), so nothing is lost.
    for (const name of LINT_FAILING_DEFAULTS) this.process.removeSingleMetric(name)
  }

  counter(name: string, help: string, read: () => number | Sample[]): void { this.add(name, help, 'counter', read) }
  gauge(name: string, help: string, read: () => number | Sample[]): void { this.add(name, help, 'gauge', read) }

  histogram(name: string, help: string, read: () => PlainHistogram | Array<{ labels: Labels; h: PlainHistogram }>): void {
    this.names.push(name)
    this.app.registerMetric(new ScrapedHistogram(name, help, () => { const v = read(); return Array.isArray(v) ? v : [{ labels: {}, h: v }] }) as never)
  }

  private add(name: string, help: string, type: MetricType, read: () => number | Sample[]): void {
    this.names.push(name)
    this.app.registerMetric(new ScrapedMetric(name, help, type, () => { const v = read(); return typeof v === 'number' ? [{ value: v }] : v }) as never)
  }

  /** The text exposition of both registries. */
  async metrics(): Promise<{ contentType: string; body: string }> {
    const body = (await this.app.metrics()) + (await this.process.metrics())
    return { contentType: this.app.contentType, body }
  }
}
