// Owns drawing a symbol's state into its row: the numbers on the grid canvas (only cells whose text changed), the price
// flashes' lifetimes, the row element's class and tooltip, and the cells' (transparent) text for assistive tech.
// Must never choose which rows to draw nor read layout: it only writes.
import type { SymbolState } from '../tickcast-client.js'
import type { GridCanvas } from './grid-canvas.js'
import { ROW_HEIGHT } from './row-window.js'
import { COL_AS, COL_ASK, COL_BID, COL_BS, COL_CHG, COL_LAST, COL_RATE, COL_ST, COL_X, STATUS_NAMES, formatPrice, formatSize } from './ticker-row.js'
import type { Row, RowData } from './ticker-row.js'

const FLASH_MS = 400
/** the page's colours (page-html.ts :root) and cell padding: the canvas text must read as the table's own */
const TEXT = '#d7dde5', MUTED = '#7d8a99', UP = '#2ecc71', DOWN = '#ff5c5c'
const FLASH_UP = 'rgba(46, 204, 113, .28)', FLASH_DOWN = 'rgba(255, 92, 92, .28)'
const FONT = '14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
const PAD_X = 10, CELL_H = ROW_HEIGHT - 1 // the row's 1 px bottom border is the element's, above the canvas
const TEXT_Y = 5 + 9.8 // the cell's top padding plus half its 19.6 px line

export class RowPainter {
  /** flashed cells (row, column) and when to clear them, in flash order, hence expiry order; a FIFO */
  private readonly flashRows: Row[] = []
  private readonly flashCols: number[] = []
  private readonly flashUntil: number[] = []
  private flashHead = 0
  private frameNow = 0
  /** per row being drawn: the text style its cells get ('wait', 'stale', 'partial' or '') */
  private cls = ''
  private changeSign = 0
  private halted = false

  constructor(private readonly grid: GridCanvas) {}

  /** Whether a flash is still to be cleared (the page keeps asking for frames until none is). */
  get flashing(): boolean { return this.flashHead < this.flashRows.length }

  clearFlashes(now: number): void {
    this.frameNow = now
    let i = this.flashHead
    const rows = this.flashRows, cols = this.flashCols, until = this.flashUntil
    while (i < rows.length && until[i] <= now) {
      // a cell flashed again later has a later entry: only its latest entry clears it (a reassigned row has none)
      const row = rows[i], col = cols[i]
      if (row.flashUntil[col] === until[i]) { row.flashUntil[col] = 0; row.flashDir[col] = 0; this.cls = row.cls; this.paint(row, col, row.painted[col]) }
      i++
    }
    if (i === rows.length) { rows.length = 0; cols.length = 0; until.length = 0; i = 0 }
    else if (i > 4096) { rows.splice(0, i); cols.splice(0, i); until.splice(0, i); i = 0 } // bounded under constant updates
    this.flashHead = i
  }

  /** Draws `s` into `row`; `withText`: also rewrite the cells' own (transparent) text. */
  draw(row: Row, d: RowData, s: SymbolState, withText: boolean): void {
    const mid = s.bid !== null && s.ask !== null ? (s.bid + s.ask) / 2 : null
    const ref = s.last ?? mid
    if (Number.isNaN(d.first) && ref !== null && ref > 0) d.first = ref
    const chg = ref !== null && d.first > 0 ? ((ref - d.first) / d.first) * 100 : NaN
    // stale: the values may be out of date; partial: the venue's book may hold orders ours lacks (the quote is ours)
    const cls = s.n < 0 ? 'wait' : s.stale !== null ? 'stale' : s.book === 'partial' ? 'partial' : ''
    if (cls !== row.cls) { row.cls = cls; row.tr.className = cls; row.repaint(); withText = true } // every cell's style changed
    this.cls = cls
    // the tooltip says where the row comes from (the server's feed) and how far to trust a partial book's quotes;
    // rebuilt only when one of its inputs changed, so a steady row allocates no string per frame
    if (s.feed !== row.tipFeed || s.book !== row.tipBook || s.bookReason !== row.tipReason) {
      row.tipFeed = s.feed; row.tipBook = s.book; row.tipReason = s.bookReason
      const tip = (s.feed !== null ? 'feed ' + s.feed : '') + (s.book === 'partial' ? (s.feed !== null ? ': ' : '') + 'order book partial (' + (s.bookReason ?? 'snapshot') + ')' : '')
      if (tip !== row.tip) { row.tip = tip; row.tr.title = tip }
    }
    this.cell(row, COL_BID, formatPrice(s.bid), true)
    this.cell(row, COL_ASK, formatPrice(s.ask), true)
    this.cell(row, COL_BS, formatSize(s.bidSize), false)
    this.cell(row, COL_AS, formatSize(s.askSize), false)
    this.cell(row, COL_LAST, formatPrice(s.last), true)
    this.changeSign = chg > 0 ? 1 : chg < 0 ? -1 : 0
    this.cell(row, COL_CHG, Number.isFinite(chg) ? (chg > 0 ? '+' : '') + chg.toFixed(2) + '%' : '–', false)
    this.cell(row, COL_RATE, String(d.rate), false)
    this.halted = s.status === 'H'
    this.cell(row, COL_ST, s.status === null ? '–' : STATUS_NAMES[s.status] ?? s.status, false)
    if (withText) this.writeText(row)
  }

  /** The cells' own text, as drawn: one style and layout of the row (page: about once a second, and when it changes state). */
  writeText(row: Row): void {
    if (row.symbol === '') return
    row.textAt = this.frameNow
    for (let c = 1; c < COL_X; c++) if (row.text[c] !== row.painted[c]) { row.text[c] = row.painted[c]; row.cells[c].textContent = row.painted[c] }
  }

  /** Draws a cell when its text changed; price cells flash green/red by direction. */
  private cell(row: Row, col: number, text: string, flashes: boolean): void {
    const prev = row.painted[col]
    if (prev === text) return
    if (flashes && prev !== '' && prev !== '–' && text !== '–') {
      const until = this.frameNow + FLASH_MS
      row.flashDir[col] = Number(text) >= Number(prev) ? 1 : -1; row.flashUntil[col] = until
      this.flashRows.push(row); this.flashCols.push(col); this.flashUntil.push(until)
    }
    row.painted[col] = text
    this.paint(row, col, text)
  }

  /** One cell on the canvas: its background (a flash, else clear), its text in the row's style. */
  private paint(row: Row, col: number, text: string): void {
    const g = this.grid, ctx = g.ctx, x0 = g.left[col], w = g.right[col] - x0, y0 = row.slot * ROW_HEIGHT
    ctx.clearRect(x0, y0, w, CELL_H)
    const dir = row.flashDir[col]
    if (dir !== 0) { ctx.fillStyle = dir > 0 ? FLASH_UP : FLASH_DOWN; ctx.fillRect(x0, y0, w, CELL_H) }
    const cls = this.cls, st = col === COL_ST
    ctx.globalAlpha = cls === 'stale' ? 0.45 : 1
    ctx.font = cls === 'stale' ? 'italic ' + FONT : st && this.halted ? '600 ' + FONT : FONT
    ctx.fillStyle = cls === 'wait' || (st && !this.halted) ? MUTED : st ? DOWN
      : col === COL_CHG && this.changeSign !== 0 ? (this.changeSign > 0 ? UP : DOWN) : TEXT
    ctx.textAlign = st ? 'center' : 'right'
    const x = st ? x0 + w / 2 : x0 + w - PAD_X, y = y0 + TEXT_Y
    ctx.fillText(text, x, y, w - 2 * PAD_X)
    // a partial book's quotes are underlined (dotted): they may miss orders the venue holds
    if (cls === 'partial' && (col === COL_BID || col === COL_ASK)) {
      const tw = Math.min(ctx.measureText(text).width, w - 2 * PAD_X)
      ctx.strokeStyle = MUTED; ctx.lineWidth = 1; ctx.setLineDash([1, 2])
      ctx.beginPath(); ctx.moveTo(x - tw, y + 8.5); ctx.lineTo(x, y + 8.5); ctx.stroke(); ctx.setLineDash([])
    }
    ctx.globalAlpha = 1
  }
}
