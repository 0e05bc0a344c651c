// Owns the canvas the ticker rows' numbers are drawn on: its place behind the rows in view, its size, the columns' x edges.
// Must never decide what a cell shows (row-painter.ts) nor read layout except in measure(), before the frame's writes.
import { ROW_HEIGHT } from './row-window.js'
import { COLUMNS, COL_BID, COL_ST } from './ticker-row.js'

/*
 * Why a canvas: at 20,000 updates/s the rows in view change every frame, and text written into table cells costs
 * Chromium style, layout (text shaping) and paint of those rows; under software raster on a loaded 2-core machine that
 * was 7 ms per redraw of ~25 rows (a DevTools trace of bench:page: Layout 198 ms in 29 frames). Drawing the same text
 * on one canvas costs a fillText per changed cell and no style or layout at all. The rows' elements stay on top of
 * the canvas, their number cells' text transparent: clicks, the tooltip, the remove button and screen readers use them.
 */
export class GridCanvas {
  readonly canvas: HTMLCanvasElement
  readonly ctx: CanvasRenderingContext2D
  /** per column: the left and right edges of its cells, CSS px from the canvas's left (negative: left of the canvas) */
  readonly left: number[] = COLUMNS.map(() => 0)
  readonly right: number[] = COLUMNS.map(() => 0)
  private measured = false
  /** the canvas's left edge and width, CSS px from the tbody's left */
  private x = 0
  private width = 0
  private rows = -1
  private shownPad = -1

  constructor(private readonly tbody: HTMLTableSectionElement, private readonly head: HTMLTableRowElement) {
    // made in script: the HTML parser moves anything but rows out of a table section
    const c = this.canvas = document.createElement('canvas')
    c.id = 'grid'; c.setAttribute('aria-hidden', 'true') // the rows' own cells carry the same text for assistive tech
    tbody.prepend(c)
    this.ctx = c.getContext('2d', { alpha: true }) as CanvasRenderingContext2D
    addEventListener('resize', () => { this.measured = false })
  }

  /** Reads the columns' edges (the header's cells share the rows' grid) when unknown: call before the frame's writes. */
  measure(): void {
    if (this.measured) return
    const base = this.tbody.getBoundingClientRect().left, cells = this.head.children
    // the canvas spans the drawn columns only (bid to status): the symbol and the remove button are the rows' own
    const origin = Math.round(cells[COL_BID].getBoundingClientRect().left - base)
    for (let c = 0; c < COLUMNS.length && c < cells.length; c++) {
      const r = cells[c].getBoundingClientRect()
      this.left[c] = Math.round(r.left - base) - origin; this.right[c] = Math.round(r.right - base) - origin // whole pixels: no half-inked edge
    }
    this.x = origin; this.width = this.right[COL_ST]
    this.measured = true
    this.rows = -1; this.shownPad = -1 // the backing store and its place follow: place() sets them
  }

  /**
   * Puts the canvas behind window rows 0..count-1 (the first at `pad` px down the tbody). Returns true when the canvas
   * was resized, and so cleared: every row must be drawn again.
   */
  place(pad: number, count: number): boolean {
    if (pad !== this.shownPad) { this.shownPad = pad; this.canvas.style.transform = 'translate(' + this.x + 'px, ' + pad + 'px)' } // no layout, unlike left/top
    if (count === this.rows) return false
    this.rows = count
    const dpr = devicePixelRatio || 1, c = this.canvas
    c.style.width = this.width + 'px'; c.style.height = count * ROW_HEIGHT + 'px'
    c.width = Math.round(this.width * dpr); c.height = Math.round(count * ROW_HEIGHT * dpr)
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0); this.ctx.textBaseline = 'middle' // a resize resets the context's state
    return true
  }
}
