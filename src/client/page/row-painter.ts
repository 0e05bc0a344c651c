// Owns writing a symbol's state into a row's cells: text, change and status styles, tooltips, and the price flashes' lifetimes.
// Must never choose which rows to draw nor read layout: it only writes, and only what changed.
import type { SymbolState } from '../tickcast-client.js'
import { COLUMNS, COL_AS, COL_ASK, COL_BID, COL_BS, COL_CHG, COL_LAST, COL_RATE, COL_ST, FLASH_COLUMNS, STATUS_NAMES, formatPrice, formatSize } from './ticker-row.js'
import type { Row, RowData } from './ticker-row.js'

const FLASH_MS = 400

export class RowPainter {
  /** flashed cells (row, column) and when to clear them, in flash order, hence expiry order; a FIFO */
  private readonly flashRows: Row[] = []
  private readonly flashCols: number[] = []
  private readonly flashUntil: number[] = []
  private flashHead = 0
  private frameNow = 0

  /** Whether a flash is still to be cleared (the page keeps asking for frames until none is). */
  get flashing(): boolean { return this.flashHead < this.flashRows.length }

  clearFlashes(now: number): void {
    this.frameNow = now
    let i = this.flashHead
    const rows = this.flashRows, cols = this.flashCols, until = this.flashUntil
    while (i < rows.length && until[i] <= now) {
      // a cell flashed again later has a later entry: only its latest entry clears it (a reassigned row has none)
      const row = rows[i], col = cols[i]
      if (row.flashUntil[col] === until[i]) { row.cells[col].className = COLUMNS[col]; row.flashUntil[col] = 0 }
      i++
    }
    if (i === rows.length) { rows.length = 0; cols.length = 0; until.length = 0; i = 0 }
    else if (i > 4096) { rows.splice(0, i); cols.splice(0, i); until.splice(0, i); i = 0 } // bounded under constant updates
    this.flashHead = i
  }

  draw(row: Row, d: RowData, s: SymbolState): void {
    const mid = s.bid !== null && s.ask !== null ? (s.bid + s.ask) / 2 : null
    const ref = s.last ?? mid
    if (Number.isNaN(d.first) && ref !== null && ref > 0) d.first = ref
    const chg = ref !== null && d.first > 0 ? ((ref - d.first) / d.first) * 100 : NaN
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
    this.cell(row, COL_RATE, String(d.rate))
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
