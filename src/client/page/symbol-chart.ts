// Owns the live page's chart of one selected symbol: bid/ask lines with the spread shaded, trades as ticks, on a canvas.
// Must never touch the DOM outside draw() (called from the page's animation frame) nor allocate per recorded update.

import { PX_ASK, PX_BID, PX_GRID, PX_SPREAD, PX_TRADE, PixelPlot } from './chart-pixels.js'

/** the time span shown, ms of arrival time (performance.now) */
const WINDOW_MS = 30_000
/**
 * Samples closer than this share one point (the latest value wins): a busy symbol sends thousands of quotes a
 * second, which would fill the ring in under a second and cost a software-rastered path of thousands of segments
 * per frame; 50 ms is 2 px at a 1,200 px chart, below what a person can tell apart.
 */
const BUCKET_MS = 50
/** points kept per series: the window's buckets, with room for a little jitter */
const CAPACITY = Math.ceil(WINDOW_MS / BUCKET_MS) + 64

const BID = '#2ecc71', ASK = '#ff5c5c', MUTED = '#7d8a99' // the labels' (the marks': chart-pixels.ts)

/** A fixed-capacity ring of (time, a, b) samples: recording overwrites the oldest, never allocates. */
class Ring {
  readonly t = new Float64Array(CAPACITY)
  readonly a = new Float64Array(CAPACITY)
  readonly b = new Float64Array(CAPACITY)
  head = 0
  size = 0
  push(t: number, a: number, b: number): void {
    if (this.size > 0) {
      const last = (this.head + this.size - 1) % CAPACITY
      if (t - this.t[last] < BUCKET_MS) { this.a[last] = a; this.b[last] = b; return } // same bucket: latest wins
    }
    const i = (this.head + this.size) % CAPACITY
    this.t[i] = t; this.a[i] = a; this.b[i] = b
    if (this.size < CAPACITY) this.size++
    else this.head = (this.head + 1) % CAPACITY
  }
  clear(): void { this.head = 0; this.size = 0 }
}

export class SymbolChart {
  /** the charted symbol, null = none selected */
  symbol: string | null = null
  private readonly quotes = new Ring() // a = bid, b = ask
  private readonly trades = new Ring() // a = price, b = size
  private readonly ctx: CanvasRenderingContext2D
  private dirty = false
  private width = 0
  private height = 0
  private sizeKnown = false
  /** the marks' pixels, as big as the canvas's backing store (made on resize) */
  private plot: PixelPlot | null = null

  constructor(private readonly canvas: HTMLCanvasElement, private readonly label: HTMLElement) {
    this.ctx = canvas.getContext('2d', { alpha: true }) as CanvasRenderingContext2D
    // the backing store follows the element's size; read on resize only, never in a frame
    addEventListener('resize', () => { this.sizeKnown = false; this.dirty = true })
  }

  /** Charts `symbol` from now on (its history starts empty: the page keeps none for unselected symbols). */
  select(symbol: string, bid: number | null, ask: number | null, now: number): void {
    this.symbol = symbol
    this.quotes.clear(); this.trades.clear()
    if (bid !== null && ask !== null) this.quotes.push(now, bid, ask)
    this.label.textContent = symbol
    this.dirty = true
  }

  quote(bid: number, ask: number, now: number): void { this.quotes.push(now, bid, ask); this.dirty = true }
  /** trades in one bucket show as one tick at the latest price (sized by that print) */
  trade(price: number, size: number, now: number): void { this.trades.push(now, price, size); this.dirty = true }

  /** Whether the next frame has something new to draw. */
  get wantsFrame(): boolean { return this.dirty }
  /** Redraw on the next frame though nothing arrived: the time axis moves (the page calls this once a second). */
  scroll(): void { if (this.symbol !== null) this.dirty = true }

  /** Charts nothing (the selected symbol was removed). */
  clear(): void { this.symbol = null; this.quotes.clear(); this.trades.clear(); this.label.textContent = '–'; this.dirty = true }

  draw(now: number): void {
    this.dirty = false
    if (!this.sizeKnown) this.resize()
    const { ctx, width: w, height: h, quotes: q, trades: tr, plot } = this
    ctx.clearRect(0, 0, w, h)
    if (this.symbol === null || w === 0 || plot === null) return
    const t0 = now - WINDOW_MS
    // price range over what is in view, both series
    let lo = Infinity, hi = -Infinity
    for (let k = 0; k < q.size; k++) {
      const i = (q.head + k) % CAPACITY
      if (q.t[i] < t0 && k < q.size - 1) continue
      if (q.a[i] < lo) lo = q.a[i]
      if (q.b[i] > hi) hi = q.b[i]
    }
    for (let k = 0; k < tr.size; k++) {
      const i = (tr.head + k) % CAPACITY
      if (tr.t[i] < t0) continue
      if (tr.a[i] < lo) lo = tr.a[i]
      if (tr.a[i] > hi) hi = tr.a[i]
    }
    if (lo === Infinity) return
    const pad = Math.max((hi - lo) * 0.1, hi * 1e-5, 1e-9)
    lo -= pad; hi += pad
    // in device pixels from here to the labels
    const W = plot.width, H = plot.height, dpr = W / w, padL = Math.round(4 * dpr), plotW = W - padL - Math.round(64 * dpr)
    const yOf = (p: number): number => Math.round(H - 6 * dpr - ((p - lo) / (hi - lo)) * (H - 12 * dpr))
    plot.clear()
    plot.row(padL, padL + plotW, yOf((lo + hi) / 2), PX_GRID)
    // quotes: per pixel column the latest quote by its end (each holds until the next: steps), the spread between
    let k = 0, cur = -1, bidY = -1, askY = -1
    for (let x = 0; x < plotW && q.size > 0; x++) {
      const end = t0 + ((x + 1) / plotW) * WINDOW_MS
      while (k < q.size && q.t[(q.head + k) % CAPACITY] <= end) cur = k++
      if (cur < 0) continue
      if (end - WINDOW_MS / plotW > now) break // the future
      const i = (q.head + cur) % CAPACITY, by = yOf(q.a[i]), ay = yOf(q.b[i]), X = padL + x
      if (by - ay > 1) plot.column(X, ay + 1, by - 1, PX_SPREAD)
      plot.column(X, bidY < 0 ? by : bidY, by, PX_BID) // the step's riser (from the previous level), then the level
      plot.column(X, askY < 0 ? ay : askY, ay, PX_ASK)
      bidY = by; askY = ay
    }
    // trades: a short vertical tick at the price (2 px wide), taller for bigger prints
    for (let j = 0; j < tr.size; j++) {
      const i = (tr.head + j) % CAPACITY
      if (tr.t[i] < t0) continue
      const X = padL + Math.floor(((tr.t[i] - t0) / WINDOW_MS) * plotW), y = yOf(tr.a[i]), r = Math.round((2 + Math.min(6, Math.log10(1 + tr.b[i]))) * dpr)
      plot.column(X, y - r, y + r, PX_TRADE); plot.column(X + 1, y - r, y + r, PX_TRADE)
    }
    ctx.putImageData(plot.image, 0, 0)

    // the latest bid / ask / spread at the right edge (CSS px: the context's transform)
    if (q.size > 0) {
      const i = (q.head + q.size - 1) % CAPACITY, bid = q.a[i], ask = q.b[i], padR = 64
      const yCss = (p: number): number => yOf(p) / dpr
      ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'middle'
      ctx.fillStyle = ASK; ctx.fillText(String(ask), w - padR + 6, Math.max(8, yCss(ask) - 6))
      ctx.fillStyle = BID; ctx.fillText(String(bid), w - padR + 6, Math.min(h - 8, yCss(bid) + 6))
      ctx.fillStyle = MUTED; ctx.fillText('spr ' + Number((ask - bid).toPrecision(6)), w - padR + 6, h - 10) // a corner of its own: never on the prices
    }
  }

  private resize(): void {
    const dpr = devicePixelRatio || 1
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight
    this.canvas.width = Math.round(w * dpr); this.canvas.height = Math.round(h * dpr)
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    this.width = w; this.height = h; this.sizeKnown = true
    this.plot = new PixelPlot(this.canvas.width, this.canvas.height)
  }
}
