// Owns the live ticker page's behaviour: rows per symbol, add/remove, connection state, at most one render per frame.
// Must never talk to the server except through the client library, nor touch the DOM outside requestAnimationFrame.
import { TickcastClient } from '../tickcast-client.js'
import type { SymbolState } from '../tickcast-client.js'
import { SymbolChart } from './symbol-chart.js'
import { COLUMNS, COL_BID, COL_ASK, COL_BS, COL_AS, COL_LAST, COL_CHG, COL_RATE, COL_ST, FLASH_COLUMNS, Row, STATUS_NAMES, formatPrice, formatSize } from './ticker-row.js'

const DEFAULT_SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'AMD', 'AVGO', 'PLTR']
const DEFAULT_COUNT = 10
const RATE_WINDOW_MS = 1000
const FLASH_MS = 400
/**
 * Rows out of view are drawn only this many per frame (oldest change first): at 20,000 updates/s over 500 symbols,
 * touching every changed row each frame costs more style and layout than a frame has; the rows a person sees are
 * drawn every frame, the rest catch up within a few frames and are exact once they come into view.
 */
const OFFSCREEN_ROWS_PER_FRAME = 8

class LivePage {
  private readonly client: TickcastClient
  private readonly rows = new Map<string, Row>()
  /** symbols changed since their row was last drawn, oldest first (a Set keeps first-insertion order) */
  private readonly dirty = new Set<string>()
  private readonly byTr = new Map<Element, Row>()
  private readonly observer: IntersectionObserver
  private readonly tbody = document.getElementById('rows') as HTMLTableSectionElement
  private readonly message = document.getElementById('message') as HTMLElement
  private frameRequested = false
  private readonly chart = new SymbolChart(document.getElementById('chart') as HTMLCanvasElement, document.getElementById('chart-symbol') as HTMLElement)
  private selectedRow: Row | null = null
  /** flashed cells (row, column) and when to clear them, in flash order, hence expiry order; a FIFO */
  private readonly flashRows: Row[] = []
  private readonly flashCols: number[] = []
  private readonly flashUntil: number[] = []
  private flashHead = 0
  private frameNow = 0
  private totalUpdates = 0
  private totalAtWindow = 0

  constructor(format: 'json' | 'msgpack', token: string | undefined) {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/stream'
    this.client = new TickcastClient({ url, format, token, reconnect: { minMs: 250, maxMs: 5000 }, pingIntervalMs: 2000 })
    this.render = this.render.bind(this)
    this.removeSymbol = this.removeSymbol.bind(this)
    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const row = this.byTr.get(e.target)
        if (row === undefined) continue
        row.visible = e.isIntersecting
        // coming into view: draw it now, whatever it missed while out of view
        if (row.visible) this.markDirty(row.symbol)
      }
    })
    const c = this.client
    const touched = (u: { symbol: string }): void => { this.touch(u.symbol) }
    const chart = this.chart
    c.on('quote', (u) => { if (u.symbol === chart.symbol) chart.quote(u.bid, u.ask, performance.now()); this.touch(u.symbol) })
    c.on('trade', (u) => { if (u.symbol === chart.symbol) chart.trade(u.price, u.size, performance.now()); this.touch(u.symbol) })
    c.on('status', touched)
    c.on('snapshot', (s) => { this.touch(s.symbol) })
    c.on('state', (s) => {
      const el = document.getElementById('state') as HTMLElement
      el.textContent = s; el.className = 'pill ' + s
      if (s === 'open') this.say('')
    })
    c.on('latency', (ms) => { (document.getElementById('latency') as HTMLElement).textContent = ms.toFixed(1) + ' ms' })
    c.on('error', (e) => {
      if (e.symbol !== null && (e.code === 'UNKNOWN_SYMBOL' || e.code === 'BAD_SYMBOL')) this.dropRow(e.symbol)
      this.say(e.symbol ? e.code + ': ' + e.symbol : e.message)
    })
    c.on('gap', (g) => { this.say('gap on ' + g.symbol + ': resynchronising') })
    c.on('book', (b) => { this.say(b.state === 'synced' ? b.symbol + ' order book is complete again' : b.symbol + ' order book is partial (' + (b.reason ?? '?') + '): quotes may miss orders'); this.touch(b.symbol) })
    c.on('stale', (st) => { this.say(st.reason === null ? st.symbol + ' is complete again' : st.symbol + ' may be missing updates (' + st.reason + ')'); this.touch(st.symbol) })
    ;(document.getElementById('format') as HTMLElement).textContent = format
    ;(document.getElementById('add') as HTMLFormElement).addEventListener('submit', (ev) => {
      ev.preventDefault()
      const input = document.getElementById('symbol-input') as HTMLInputElement
      this.addSymbols(input.value.toUpperCase().split(/[\s,;]+/).filter((s) => s.length > 0))
      input.value = ''
    })
    // a click on a row (not its remove button) charts that symbol
    this.tbody.addEventListener('click', (ev) => {
      const target = ev.target as Element
      if (target.closest('button') !== null) return
      const tr = target.closest('tr'), row = tr === null ? undefined : this.byTr.get(tr)
      if (row !== undefined) this.select(row)
    })
    setInterval(() => { this.tickRates() }, RATE_WINDOW_MS)
    ;(globalThis as { tickcast?: TickcastClient }).tickcast = c // for the console (and tests)
  }

  start(symbols: readonly string[]): void {
    this.addSymbols(symbols)
    this.client.connect()
  }

  addSymbols(symbols: readonly string[]): void {
    const fresh = symbols.filter((s) => !this.rows.has(s))
    for (const s of fresh) {
      const row = new Row(s, this.removeSymbol)
      row.windowStart = performance.now()
      this.rows.set(s, row)
      this.byTr.set(row.tr, row)
      this.tbody.appendChild(row.tr)
      this.observer.observe(row.tr)
    }
    this.client.subscribe(fresh)
    this.updateCount()
    if (this.selectedRow === null && this.rows.size > 0) this.select(this.rows.values().next().value as Row)
  }

  private select(row: Row): void {
    if (this.selectedRow === row) return
    this.selectedRow?.tr.removeAttribute('aria-current')
    row.tr.setAttribute('aria-current', 'true') // the charted row
    this.selectedRow = row
    const s = this.client.get(row.symbol)
    this.chart.select(row.symbol, s?.bid ?? null, s?.ask ?? null, performance.now())
    if (!this.frameRequested) { this.frameRequested = true; requestAnimationFrame(this.render) }
  }

  removeSymbol(symbol: string): void {
    this.client.unsubscribe([symbol])
    this.dropRow(symbol)
  }

  private dropRow(symbol: string): void {
    const row = this.rows.get(symbol)
    if (!row) return
    this.observer.unobserve(row.tr)
    row.tr.remove()
    this.byTr.delete(row.tr)
    this.rows.delete(symbol); this.dirty.delete(symbol)
    if (this.selectedRow === row) { // chart the first remaining symbol instead
      this.selectedRow = null; this.chart.clear()
      const next = this.rows.values().next()
      if (next.done !== true) this.select(next.value)
    }
    this.updateCount()
  }

  private updateCount(): void { (document.getElementById('count') as HTMLElement).textContent = String(this.rows.size) }

  private say(text: string): void { this.message.textContent = text }

  /** Marks a symbol for the next frame; the DOM is touched at most once per animation frame. */
  private touch(symbol: string): void {
    const row = this.rows.get(symbol)
    if (!row) return
    row.updates++; this.totalUpdates++
    this.markDirty(symbol)
  }

  private markDirty(symbol: string): void {
    this.dirty.add(symbol)
    if (!this.frameRequested) { this.frameRequested = true; requestAnimationFrame(this.render) }
  }

  private tickRates(): void {
    const now = performance.now()
    for (const row of this.rows.values()) {
      const rate = Math.round((row.updates * 1000) / Math.max(1, now - row.windowStart))
      if (rate !== row.rate || row.updates > 0) { row.rate = rate; this.dirty.add(row.symbol) }
      row.updates = 0; row.windowStart = now
    }
    ;(document.getElementById('rate') as HTMLElement).textContent = String(this.totalUpdates - this.totalAtWindow)
    this.totalAtWindow = this.totalUpdates
    this.chart.scroll()
    if (!this.frameRequested && (this.dirty.size > 0 || this.chart.wantsFrame)) { this.frameRequested = true; requestAnimationFrame(this.render) }
  }

  private render(now: number): void {
    this.frameRequested = false
    this.frameNow = now
    this.clearFlashes(now)
    // visible rows every frame; out-of-view ones a few per frame, oldest change first (deleting the entry being
    // visited is safe in a Set's iteration)
    let offscreen = OFFSCREEN_ROWS_PER_FRAME
    for (const sym of this.dirty) {
      const row = this.rows.get(sym)
      if (row === undefined) { this.dirty.delete(sym); continue }
      if (!row.visible) { if (offscreen === 0) continue; offscreen-- }
      this.dirty.delete(sym)
      const s = this.client.get(sym)
      if (s) this.drawRow(row, s)
    }
    if (this.chart.wantsFrame) this.chart.draw(now)
    if (this.flashHead < this.flashRows.length || this.dirty.size > 0 || this.chart.wantsFrame) { this.frameRequested = true; requestAnimationFrame(this.render) }
  }

  private clearFlashes(now: number): void {
    let i = this.flashHead
    const rows = this.flashRows, cols = this.flashCols, until = this.flashUntil
    while (i < rows.length && until[i] <= now) {
      // a cell flashed again later has a later entry: only its latest entry clears it
      const row = rows[i], col = cols[i]
      if (row.flashUntil[col] === until[i]) row.cells[col].className = COLUMNS[col]
      i++
    }
    if (i === rows.length) { rows.length = 0; cols.length = 0; until.length = 0; i = 0 }
    else if (i > 4096) { rows.splice(0, i); cols.splice(0, i); until.splice(0, i); i = 0 } // bounded under constant updates
    this.flashHead = i
  }

  private drawRow(row: Row, s: SymbolState): void {
    const mid = s.bid !== null && s.ask !== null ? (s.bid + s.ask) / 2 : null
    const ref = s.last ?? mid
    if (Number.isNaN(row.first) && ref !== null && ref > 0) row.first = ref
    const chg = ref !== null && row.first > 0 ? ((ref - row.first) / row.first) * 100 : NaN
    // stale: the values may be out of date; partial: the venue's book may hold orders ours lacks (the quote is ours)
    const cls = s.n < 0 ? 'wait' : s.stale !== null ? 'stale' : s.book === 'partial' ? 'partial' : ''
    if (cls !== row.cls) { row.cls = cls; row.tr.className = cls }
    // the tooltip says where the row comes from (the server's feed) and how far to trust a partial book's quotes;
    // rebuilt only when one of its inputs changed, so a steady row allocates no string per frame
    if (s.feed !== row.tipFeed || s.book !== row.tipBook || s.bookReason !== row.tipReason) {
      row.tipFeed = s.feed; row.tipBook = s.book; row.tipReason = s.bookReason
      const tip = (s.feed !== null ? 'feed ' + s.feed : '') + (s.book === 'partial' ? (s.feed !== null ? ': ' : '') + 'order book partial (' + (s.bookReason ?? 'snapshot') + ')' : '')
      if (tip !== row.tip) { row.tip = tip; row.tr.title = tip }
    }
    this.cell(row, COL_BID, formatPrice(s.bid))
    this.cell(row, COL_ASK, formatPrice(s.ask))
    this.cell(row, COL_BS, formatSize(s.bidSize))
    this.cell(row, COL_AS, formatSize(s.askSize))
    this.cell(row, COL_LAST, formatPrice(s.last))
    const chgText = Number.isFinite(chg) ? (chg > 0 ? '+' : '') + chg.toFixed(2) + '%' : '–'
    if (this.cell(row, COL_CHG, chgText)) row.cells[COL_CHG].className = 'c-chg' + (chg > 0 ? ' pos' : chg < 0 ? ' neg' : '')
    this.cell(row, COL_RATE, String(row.rate))
    const st = s.status === null ? '–' : STATUS_NAMES[s.status] ?? s.status
    if (this.cell(row, COL_ST, st)) row.cells[COL_ST].className = 'c-st' + (s.status === 'H' ? ' halted' : '')
  }

  /** Writes a cell when its text changed; price cells flash green/red by direction. Returns whether it changed. */
  private cell(row: Row, col: number, text: string): boolean {
    const prev = row.drawn[col]
    if (prev === text) return false
    row.drawn[col] = text
    const td = row.cells[col]
    td.textContent = text
    if (prev !== '' && prev !== '–' && FLASH_COLUMNS.includes(col)) {
      const up = Number(text) >= Number(prev), until = this.frameNow + FLASH_MS
      td.className = COLUMNS[col] + (up ? ' up' : ' dn')
      row.flashUntil[col] = until
      this.flashRows.push(row); this.flashCols.push(col); this.flashUntil.push(until)
    }
    return true
  }
}

function boot(): void {
  const q = new URLSearchParams(location.search)
  const format = q.get('format') === 'msgpack' ? 'msgpack' : 'json'
  // a credential rides in the fragment (#token=...): browsers never send it to a server, so it reaches no log
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined
  const page = new LivePage(format, token)
  const listed = q.get('symbols')
  if (listed !== null) { page.start(listed.split(',').filter((s) => s.length > 0)); return }
  // default: the first symbols the server knows (busiest first with the simulator), else a fixed list
  fetch('/v1/symbols', token ? { headers: { authorization: 'Bearer ' + token } } : {}).then((r) => r.json() as Promise<string[]>).then(
    (names) => page.start(names.length > 0 ? names.slice(0, DEFAULT_COUNT) : DEFAULT_SYMBOLS),
    () => page.start(DEFAULT_SYMBOLS),
  )
}

if (typeof document !== 'undefined') boot()
