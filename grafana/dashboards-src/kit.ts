// Owns the building blocks of tickcast's dashboards: datasource and variables, panels with unit/description/thresholds, layout.
// Must never name a metric: each dashboard file writes its own PromQL against names from src/metrics/catalogue.ts.
import { DashboardCursorSync, FieldColorModeId, MappingType, ThresholdsMode, VariableHide, VariableRefresh, VariableSort } from '@grafana/schema'
import type { Dashboard, DataSourceRef, Panel, VariableModel } from '@grafana/schema'

/** Panels point at the datasource variable, so a user can switch Prometheus instances without editing JSON. */
export const DS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' }
/** Every expression filters on this selector; `$instance` is multi-valued, hence `=~`. */
export const INST = 'instance=~"$instance"'
/** Grafana's schemaVersion for the Grafana 12 image pinned in docker-compose.yml (never above what that image knows). */
export const SCHEMA_VERSION = 41

export const datasourceVar: VariableModel = {
  name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', hide: VariableHide.dontHide,
  current: { text: 'Prometheus', value: 'prometheus' }, refresh: VariableRefresh.onDashboardLoad, regex: '',
}

/** A multi-value query variable over a label of a metric that always exists (filtered by `$instance` if asked). */
export function labelVar(name: string, label: string, metric: string, byInstance: boolean): VariableModel {
  const sel = byInstance ? `{${INST}}` : ''
  return {
    name, label, type: 'query', datasource: DS, query: `label_values(${metric}${sel}, ${name})`,
    refresh: VariableRefresh.onTimeRangeChanged, multi: true, includeAll: true, allValue: '.*',
    current: { text: 'All', value: '$__all' }, sort: VariableSort.alphabeticalAsc, hide: VariableHide.dontHide, regex: '',
  }
}

export const instanceVar = labelVar('instance', 'Instance', 'tickcast_build_info', false)

export interface Query { expr: string; legend: string }
export const q = (expr: string, legend: string): Query => ({ expr, legend })

/** Threshold steps as [color, from]; the first step is the base (from = null). */
type Steps = ReadonlyArray<readonly [string, number | null]>
export const OK_ONLY: Steps = [['green', null]]
/** Anything above zero is worth a look: drops, errors, gaps. */
export const ZERO_IS_GOOD: Steps = [['green', null], ['red', 1e-9]]

export interface PanelSpec {
  title: string
  description: string
  unit: string
  queries: Query[]
  thresholds: Steps
  /** grid width (of 24) and height; defaults 12 × 8 for graphs, 4 × 4 for stats */
  w?: number
  h?: number
  min?: number
  max?: number
  decimals?: number
  /** value → text for stats (e.g. 0 → DOWN) */
  mappings?: Record<string, { text: string; color: string }>
  /** stack series (rates by reason/code) */
  stack?: boolean
}

function fieldDefaults(p: PanelSpec): NonNullable<Panel['fieldConfig']>['defaults'] {
  const d: NonNullable<Panel['fieldConfig']>['defaults'] = {
    unit: p.unit,
    thresholds: { mode: ThresholdsMode.Absolute, steps: p.thresholds.map(([color, value]) => ({ color, value })) },
    color: { mode: p.thresholds.length > 1 ? FieldColorModeId.Thresholds : FieldColorModeId.PaletteClassic },
  }
  if (p.min !== undefined) d.min = p.min
  if (p.max !== undefined) d.max = p.max
  if (p.decimals !== undefined) d.decimals = p.decimals
  if (p.mappings) {
    d.mappings = [{ type: MappingType.ValueToText, options: Object.fromEntries(Object.entries(p.mappings).map(([k, v], index) => [k, { ...v, index }])) }]
  }
  return d
}

function targets(p: PanelSpec): Array<Record<string, unknown>> {
  return p.queries.map((x, i) => ({
    refId: String.fromCharCode(65 + i), datasource: DS, expr: x.expr, legendFormat: x.legend, range: true, instant: false, editorMode: 'code',
  }))
}

export function timeseries(p: PanelSpec): Panel {
  const defaults = fieldDefaults(p)
  defaults.color = { mode: FieldColorModeId.PaletteClassic }
  defaults.custom = {
    drawStyle: 'line', lineWidth: 1, fillOpacity: p.stack ? 30 : 10, showPoints: 'never', spanNulls: false,
    stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
    // Threshold lines only where a step means something (not on the plain green base).
    thresholdsStyle: { mode: p.thresholds.length > 1 ? 'line' : 'off' },
  }
  return {
    type: 'timeseries', title: p.title, description: p.description, datasource: DS,
    gridPos: { x: 0, y: 0, w: p.w ?? 12, h: p.h ?? 8 },
    fieldConfig: { defaults, overrides: [] },
    options: { legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: targets(p),
  }
}

export function stat(p: PanelSpec): Panel {
  return {
    type: 'stat', title: p.title, description: p.description, datasource: DS,
    gridPos: { x: 0, y: 0, w: p.w ?? 4, h: p.h ?? 4 },
    fieldConfig: { defaults: fieldDefaults(p), overrides: [] },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background', graphMode: 'area', justifyMode: 'auto', orientation: 'auto', textMode: 'auto',
    },
    targets: targets(p),
  }
}

/** Places panels left to right in a 24-column grid, wrapping when a row is full; assigns ids 1..n. */
export function layout(panels: Panel[]): Panel[] {
  let x = 0, y = 0, rowH = 0
  return panels.map((p, i) => {
    const g = p.gridPos as NonNullable<Panel['gridPos']>
    if (x + g.w > 24) { x = 0; y += rowH; rowH = 0 }
    const placed = { ...p, id: i + 1, gridPos: { h: g.h, w: g.w, x, y } }
    x += g.w; rowH = Math.max(rowH, g.h)
    return placed
  })
}

export function dashboard(uid: string, title: string, description: string, vars: VariableModel[], panels: Panel[]): Dashboard {
  return {
    uid, title, description, tags: ['tickcast'], editable: false, graphTooltip: DashboardCursorSync.Crosshair,
    schemaVersion: SCHEMA_VERSION, time: { from: 'now-15m', to: 'now' }, refresh: '5s', timezone: 'browser',
    fiscalYearStartMonth: 0, liveNow: false, links: [{ title: 'tickcast', type: 'dashboards', tags: ['tickcast'], asDropdown: true, icon: 'external link', includeVars: true, keepTime: true, targetBlank: false, tooltip: '', url: '' }],
    annotations: { list: [] },
    templating: { list: [datasourceVar, ...vars] },
    panels: layout(panels),
  }
}

/** Quantile of a histogram family over the selected instances, as a PromQL expression. */
export function quantile(phi: number, family: string): string {
  return `histogram_quantile(${phi}, sum by (le) (rate(${family}_bucket{${INST}}[$__rate_interval])))`
}

/** Per-second rate of a counter summed by the given labels (none = one series). */
export function rateBy(counter: string, by: string, extra = ''): string {
  const sel = extra === '' ? INST : `${INST},${extra}`
  return `sum${by === '' ? '' : ` by (${by})`} (rate(${counter}{${sel}}[$__rate_interval]))`
}
