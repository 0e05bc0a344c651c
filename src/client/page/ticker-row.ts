// Owns one ticker row of the live page: its cells, what was last drawn in them, and how prices and sizes read.
// Must never decide when a row is drawn (live-page.ts: once per frame, visible rows first) nor talk to the server.

export const COLUMNS = ['c-sym', 'c-bid', 'c-ask', 'c-bs', 'c-as', 'c-last', 'c-chg', 'c-rate', 'c-st', 'c-x']
export const COL_BID = 1, COL_ASK = 2, COL_BS = 3, COL_AS = 4, COL_LAST = 5, COL_CHG = 6, COL_RATE = 7, COL_ST = 8, COL_X = 9
export const FLASH_COLUMNS = [COL_BID, COL_ASK, COL_LAST]

/** One table row and what was last drawn in it (cells are only written when their text changes). */
export class Row {
  readonly tr: HTMLTableRowElement
  readonly cells: HTMLTableCellElement[] = []
  readonly drawn: string[] = []
  /** per cell: when its current flash ends (frame time, ms) */
  readonly flashUntil: number[] = []
  /** the row's class and tooltip as last written: an unchanged write still costs Chromium a style invalidation */
  cls = 'wait'
  tip = ''
  tipFeed: string | null = null
  tipBook: string | null = null
  tipReason: string | null = null
  /** whether any of the row is in the viewport (IntersectionObserver: no layout read of ours) */
  visible = false
  /** reference for "change since first seen": the first trade price, else the first mid */
  first = NaN
  /** the symbol's update count (SymbolState.updates) when the current Upd/s window started */
  updatesAtWindow = 0
  windowStart = 0
  rate = 0

  constructor(readonly symbol: string, onRemove: (symbol: string) => void) {
    this.tr = document.createElement('tr')
    this.tr.dataset.symbol = symbol
    this.tr.className = 'wait'
    // explicit roles: the rows are laid out as grids (page-html.ts), which would otherwise hide the table semantics
    this.tr.setAttribute('role', 'row')
    for (const cls of COLUMNS) {
      const td = document.createElement('td')
      td.className = cls
      td.setAttribute('role', cls === 'c-sym' ? 'rowheader' : 'cell')
      this.tr.appendChild(td)
      this.cells.push(td); this.drawn.push(''); this.flashUntil.push(0)
    }
    this.cells[0].textContent = symbol
    const x = document.createElement('button')
    x.type = 'button'; x.textContent = '×'; x.title = 'remove ' + symbol
    x.addEventListener('click', () => onRemove(symbol))
    this.cells[COL_X].appendChild(x)
  }
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
