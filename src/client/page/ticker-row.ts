// Owns one ticker row of the live page: a reusable slot of cells showing some symbol, what was last drawn in them, and how prices and sizes read.
// Must never decide when a row is drawn or which symbol it shows (live-page.ts, row-window.ts) nor talk to the server.

export const COLUMNS = ['c-sym', 'c-bid', 'c-ask', 'c-bs', 'c-as', 'c-last', 'c-chg', 'c-rate', 'c-st', 'c-x']
export const COL_BID = 1, COL_ASK = 2, COL_BS = 3, COL_AS = 4, COL_LAST = 5, COL_CHG = 6, COL_RATE = 7, COL_ST = 8, COL_X = 9
export const FLASH_COLUMNS = [COL_BID, COL_ASK, COL_LAST]

/** What the page keeps per subscribed symbol whether or not a row shows it. */
export class RowData {
  /** reference for "change since first seen": the first trade price, else the first mid */
  first = NaN
  /** the symbol's update count (SymbolState.updates) when the current Upd/s window started */
  updatesAtWindow = 0
  windowStart = 0
  rate = 0
  constructor(readonly symbol: string, now: number) { this.windowStart = now }
}

/**
 * One table row element, shown for whichever symbol row-window.ts assigns it (only the rows in view exist), and what
 * was last drawn for it. The row's numbers are drawn on the grid canvas behind the rows (row-painter.ts); the element's
 * cells hold the same text, transparent, rewritten about once a second: for screen readers, copying and tests.
 */
export class Row {
  /** the symbol shown, '' while unassigned */
  symbol = ''
  /** the row's place in the window (row-window.ts): its band of the grid canvas is slot × ROW_HEIGHT px down */
  slot = 0
  readonly tr: HTMLTableRowElement
  readonly cells: HTMLTableCellElement[] = []
  /** per cell: the text on the canvas ('' = nothing drawn: the next draw paints it) and in the element */
  readonly painted: string[] = []
  readonly text: string[] = []
  /** per cell: when its current flash ends (frame time, ms), and its direction (1 up, -1 down, 0 none) */
  readonly flashUntil: number[] = []
  readonly flashDir: number[] = []
  /** the row's class and tooltip as last written: an unchanged write still costs Chromium a style invalidation */
  cls = 'wait'
  tip = ''
  tipFeed: string | null = null
  tipBook: string | null = null
  tipReason: string | null = null
  /** frame time of the last canvas draw (live-page.ts spaces a row's draws) and of the last write of its cells' text */
  drawnAt = -Infinity
  textAt = -Infinity
  private readonly remove: HTMLButtonElement

  constructor(onRemove: (symbol: string) => void) {
    this.tr = document.createElement('tr')
    this.tr.className = 'wait'
    // explicit roles: the rows are laid out as grids (page-html.ts), which would otherwise hide the table semantics
    this.tr.setAttribute('role', 'row')
    for (const cls of COLUMNS) {
      const td = document.createElement('td')
      td.className = cls
      td.setAttribute('role', cls === 'c-sym' ? 'rowheader' : 'cell')
      this.tr.appendChild(td)
      this.cells.push(td); this.painted.push(''); this.text.push(''); this.flashUntil.push(0); this.flashDir.push(0)
    }
    const x = this.remove = document.createElement('button')
    x.type = 'button'; x.textContent = '×'
    x.addEventListener('click', () => { if (this.symbol !== '') onRemove(this.symbol) })
    this.cells[COL_X].appendChild(x)
  }

  /** Shows `symbol` (position `index` of the whole list) from scratch: the next draw writes every cell. */
  assign(symbol: string, index: number): void {
    this.symbol = symbol
    this.tr.dataset.symbol = symbol
    this.tr.setAttribute('aria-rowindex', String(index + 2)) // 1 is the header row
    this.cells[0].textContent = symbol
    this.remove.title = 'remove ' + symbol
    for (let c = 1; c < COL_X; c++) {
      if (this.text[c] !== '') { this.text[c] = ''; this.cells[c].textContent = '' }
      this.painted[c] = ''; this.flashUntil[c] = 0; this.flashDir[c] = 0
    }
    this.cls = 'wait'; this.tr.className = 'wait'; this.drawnAt = -Infinity; this.textAt = -Infinity
    this.tip = ''; this.tipFeed = null; this.tipBook = null; this.tipReason = null; this.tr.title = ''
  }

  /** Forgets what the canvas shows (it was cleared or resized): the next draw paints every cell. */
  repaint(): void { for (let c = 1; c < COL_X; c++) this.painted[c] = ''; this.drawnAt = -Infinity }
}

export const STATUS_NAMES: Record<string, string> = { T: 'trading', H: 'halted', P: 'paused', Q: 'quoting', C: 'closed' }

/** Prices as exact decimals with at least 2 places: 179.9 → "179.90", 0.00012345 stays "0.00012345". */
export function formatPrice(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '–'
  const s = String(v)
  const dot = s.indexOf('.')
  if (s.includes('e')) return v.toFixed(8)
  if (dot < 0) return s + '.00'
  return s.length - dot - 1 < 2 ? s + '0' : s
}

export function formatSize(v: number | null): string { return v === null || !Number.isFinite(v) ? '–' : String(v) }
