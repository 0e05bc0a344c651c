// Owns regenerating the README's generated sections (configuration table, metric list) from the code.
// Must never be imported by the server: it is a maintainer tool, run as `npm run docs:readme`.
import { readFileSync, writeFileSync } from 'node:fs'
import { markdownTable } from '../src/config.js'
import { DispatchStats } from '../src/fanout/dispatcher.js'
import { MqttStats } from '../src/fanout/mqtt-stats.js'
import { WsStats } from '../src/fanout/ws-stats.js'
import { FeedStats, LineStats } from '../src/feed/feed-stats.js'
import { BusPublishStats } from '../src/bus/bus-publisher.js'
import { BusConsumeStats } from '../src/bus/bus-source.js'
import { registerCatalogue } from '../src/metrics/catalogue.js'
import { HttpStats } from '../src/metrics/http-stats.js'
import { MetricsRegistry } from '../src/metrics/registry.js'
import { SharedSymbols } from '../src/model/shared-symbols.js'
import { SymbolTable } from '../src/model/symbols.js'
import { TickRing } from '../src/ring/ring-buffer.js'

/** Every metric tickcast can register (all optional parts on), with its type and label names. */
export async function metricRows(): Promise<Array<{ name: string; type: string; labels: string; help: string }>> {
  const m = new MetricsRegistry(false)
  const feed = new FeedStats('a') // an A/B feed, so the per-line metrics are listed too
  feed.lines.push(new LineStats('a', 'A'), new LineStats('a', 'B'))
  registerCatalogue(m, { feeds: [feed], ring: new TickRing(1024), symbols: new SymbolTable(new SharedSymbols(16)), dispatch: new DispatchStats(), ws: new WsStats(), mqtt: new MqttStats(), http: new HttpStats(),
    bus: new BusPublishStats(), busSource: new BusConsumeStats() })
  return (await m.app.getMetricsAsJSON()).map((x) => {
    const keys = new Set<string>()
    for (const v of x.values ?? []) for (const k of Object.keys(v.labels ?? {})) if (k !== 'le') keys.add(k)
    return { name: x.name, type: String(x.type), labels: [...keys].join(', ') || '–', help: x.help }
  })
}

export async function metricTable(): Promise<string> {
  const rows = (await metricRows()).map((r) => `| \`${r.name}\` | ${r.type} | ${r.labels} | ${r.help} |`)
  return ['| metric | type | labels | meaning |', '|---|---|---|---|', ...rows, ''].join('\n')
}

export function replaceSection(text: string, name: string, body: string): string {
  const re = new RegExp(`(<!-- ${name}:start[^>]*-->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`)
  if (!re.test(text)) throw new Error(`README has no ${name} section`)
  return text.replace(re, (_m, open: string, close: string) => open + body + close)
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const path = 'README.md'
  let text = readFileSync(path, 'utf8')
  text = replaceSection(text, 'config-table', markdownTable())
  text = replaceSection(text, 'metric-list', await metricTable())
  writeFileSync(path, text)
  console.log('README.md: configuration table and metric list regenerated')
}
