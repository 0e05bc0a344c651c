// Owns the live page's chart of one selected symbol: bid/ask lines with the spread shaded, trades as ticks, on a canvas.
// Must never touch the DOM outside draw() (called from the page's animation frame) nor allocate per recorded update.

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

const BID = '#2ecc71', ASK = '#ff5c5c', SPREAD = 'rgba(77, 163, 255, .18)', TRADE = '#d7dde5', MUTED = '#7d8a99', GRID = '#232b36'

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
    const { ctx, width: w, height: h, quotes: q, trades: tr } = this
    ctx.clearRect(0, 0, w, h)
    if (this.symbol === null || w === 0) return
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
    const padL = 4, padR = 64
    const xOf = (t: number): number => padL + ((Math.max(t, t0) - t0) / WINDOW_MS) * (w - padL - padR)
    const yOf = (p: number): number => h - 6 - ((p - lo) / (hi - lo)) * (h - 12)

    ctx.strokeStyle = GRID; ctx.lineWidth = 1
    ctx.beginPath(); ctx.moveTo(padL, yOf((lo + hi) / 2) + 0.5); ctx.lineTo(w - padR, yOf((lo + hi) / 2) + 0.5); ctx.stroke()

    // the spread: a band from the bid line forward, back along the ask line (each quote holds until the next: steps)
    if (q.size > 0) {
      ctx.fillStyle = SPREAD
      ctx.beginPath()
      this.stepPath(q.a, t0, now, xOf, yOf, true)
      this.stepPathBack(q.b, t0, now, xOf, yOf)
      ctx.closePath(); ctx.fill()
      ctx.lineWidth = 1.5
      ctx.strokeStyle = BID; ctx.beginPath(); this.stepPath(q.a, t0, now, xOf, yOf, true); ctx.stroke()
      ctx.strokeStyle = ASK; ctx.beginPath(); this.stepPath(q.b, t0, now, xOf, yOf, true); ctx.stroke()
    }
    // trades: a short vertical tick at the price, taller for bigger prints
    ctx.strokeStyle = TRADE; ctx.lineWidth = 1.5
    ctx.beginPath()
    for (let k = 0; k < tr.size; k++) {
      const i = (tr.head + k) % CAPACITY
      if (tr.t[i] < t0) continue
      const x = Math.round(xOf(tr.t[i])) + 0.5, y = yOf(tr.a[i]), r = 2 + Math.min(6, Math.log10(1 + tr.b[i]))
      ctx.moveTo(x, y - r); ctx.lineTo(x, y + r)
    }
    ctx.stroke()

    // the latest bid / ask / spread at the right edge
    if (q.size > 0) {
      const i = (q.head + q.size - 1) % CAPACITY, bid = q.a[i], ask = q.b[i]
      ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'middle'
      ctx.fillStyle = ASK; ctx.fillText(String(ask), w - padR + 6, Math.max(8, yOf(ask) - 6))
      ctx.fillStyle = BID; ctx.fillText(String(bid), w - padR + 6, Math.min(h - 8, yOf(bid) + 6))
      ctx.fillStyle = MUTED; ctx.fillText('spr ' + Number((ask - bid).toPrecision(6)), w - padR + 6, h - 10) // a corner of its own: never on the prices
    }
  }

  /** Steps through series `v` oldest to newest, held to `now`; `first` starts with a moveTo. */
  private stepPath(v: Float64Array, t0: number, now: number, xOf: (t: number) => number, yOf: (p: number) => number, first: boolean): void {
    const q = this.quotes, ctx = this.ctx
    let started = !first
    for (let k = 0; k < q.size; k++) {
      const i = (q.head + k) % CAPACITY
      const next = k + 1 < q.size ? q.t[(i + 1) % CAPACITY] : now
      if (next < t0) continue // superseded before the window starts
      const x0 = xOf(q.t[i]), x1 = xOf(next), y = yOf(v[i])
      if (!started) { ctx.moveTo(x0, y); started = true } else ctx.lineTo(x0, y)
      ctx.lineTo(x1, y)
    }
  }

  /** The same steps newest to oldest (the band's return edge). */
  private stepPathBack(v: Float64Array, t0: number, now: number, xOf: (t: number) => number, yOf: (p: number) => number): void {
    const q = this.quotes, ctx = this.ctx
    for (let k = q.size - 1; k >= 0; k--) {
      const i = (q.head + k) % CAPACITY
      const next = k + 1 < q.size ? q.t[(i + 1) % CAPACITY] : now
      if (next < t0) break
      const y = yOf(v[i])
      ctx.lineTo(xOf(next), y); ctx.lineTo(xOf(q.t[i]), y)
    }
  }

  private resize(): void {
    const dpr = devicePixelRatio || 1
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight
    this.canvas.width = Math.round(w * dpr); this.canvas.height = Math.round(h * dpr)
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    this.width = w; this.height = h; this.sizeKnown = true
  }
}
