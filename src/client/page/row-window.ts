// Owns which symbols have a row element: only those in view (and a few around) do, in a pool of reused rows under a spacer.
// Must never draw a row's values (row-painter.ts) nor write layout it read in the same pass: one read, then writes.
import { Row } from './ticker-row.js'

/** px per row: page-html.ts gives `tbody tr` this height */
export const ROW_HEIGHT = 31
/** rows kept beyond the viewport's lower edge (and one above), so a scroll step shows drawn rows */
const OVERSCAN = 3
/** at least this many rows exist while there are symbols to show, whatever the viewport */
const MIN_ROWS = 12

/*
 * Why: with a row element per symbol (500 at the benchmark's load), every frame's style, layout, intersection and
 * paint walk the whole table, which cost more than the frame had, though only ~20 rows can be seen. Here the
 * document holds only the rows in view: the table's height is kept by the tbody's own height and top padding.
 */
export class RowWindow {
  /** every symbol, in display order */
  private readonly order: string[] = []
  /** rows in use: rows[i] shows order[first + i] */
  private readonly rows: Row[] = []
  private readonly spare: Row[] = []
  private shownHeight = -1
  private shownPad = -1
  /** after update(): rows in use, and the px above the first of them (where the grid canvas goes) */
  count = 0
  pad = 0
  /** the row element → its row (clicks), and the symbol → the row showing it */
  readonly byTr = new Map<Element, Row>()
  readonly bySymbol = new Map<string, Row>()

  constructor(private readonly tbody: HTMLTableSectionElement, private readonly onRemove: (symbol: string) => void) {}

  get size(): number { return this.order.length }
  /** the rows in use, rows[i] in slot i */
  get shown(): readonly Row[] { return this.rows }
  symbolAt(i: number): string | undefined { return this.order[i] }

  add(symbol: string): void { this.order.push(symbol) }

  remove(symbol: string): void {
    const i = this.order.indexOf(symbol)
    if (i >= 0) this.order.splice(i, 1)
  }

  /**
   * Puts the symbols in view into rows, reusing rows; calls `assigned` for each row that now shows a different symbol
   * (it must be drawn in full). Reads the tbody's position once, then only writes.
   */
  update(assigned: (row: Row) => void): void {
    const top = this.tbody.getBoundingClientRect().top
    const n = this.order.length
    const first = Math.min(Math.max(0, Math.floor(-top / ROW_HEIGHT) - 1), Math.max(0, n - 1))
    // down to the viewport's lower edge (the table starts below the header and chart): rows never seen are never drawn
    const count = Math.min(n - first, Math.max(MIN_ROWS, Math.ceil((innerHeight - top) / ROW_HEIGHT) + OVERSCAN - first))
    const height = n * ROW_HEIGHT, pad = first * ROW_HEIGHT
    if (height !== this.shownHeight) { this.shownHeight = height; this.tbody.style.height = height + 'px' }
    if (pad !== this.shownPad) { this.shownPad = pad; this.tbody.style.paddingTop = pad + 'px' }
    this.count = count; this.pad = pad
    for (let i = 0; i < count; i++) {
      let row = this.rows[i]
      if (row === undefined) {
        row = this.spare.pop() ?? new Row(this.onRemove)
        row.slot = this.rows.length
        this.rows.push(row); this.byTr.set(row.tr, row)
        this.tbody.appendChild(row.tr)
      }
      const sym = this.order[first + i]
      if (row.symbol !== sym) {
        if (this.bySymbol.get(row.symbol) === row) this.bySymbol.delete(row.symbol)
        row.assign(sym, first + i)
        this.bySymbol.set(sym, row)
        assigned(row)
      }
    }
    while (this.rows.length > count) { // fewer rows needed: detach the rest for later
      const row = this.rows.pop() as Row
      if (this.bySymbol.get(row.symbol) === row) this.bySymbol.delete(row.symbol)
      row.tr.remove(); this.byTr.delete(row.tr); row.symbol = ''
      this.spare.push(row)
    }
  }
}
