// Owns drawing the chart's marks straight into a pixel buffer (one device pixel per column, runs of solid colour, no paths).
// Must never allocate per draw (the buffer is made on resize only) nor touch the canvas: symbol-chart.ts puts the pixels.

/*
 * Why pixels rather than canvas paths: the chart's anti-aliased step lines and spread band, ~600 buckets each, cost
 * Chromium's software raster ~5 ms per draw on this machine (the band 2.9 ms, each line 1.4 ms: a canvas micro-benchmark
 * in headless Chromium --disable-gpu), more than the whole table. A column of a few pixels per device pixel of width is
 * a few thousand array writes, and one putImageData.
 */

/** colours as ImageData words: little-endian RGBA, so 0xAABBGGRR (not premultiplied) */
export const PX_BID = 0xff71cc2e, PX_ASK = 0xff5c5cff, PX_SPREAD = 0x2effa34d, PX_TRADE = 0xffe5ddd7, PX_GRID = 0xff362b23

export class PixelPlot {
  readonly image: ImageData
  private readonly px: Uint32Array

  constructor(readonly width: number, readonly height: number) {
    this.image = new ImageData(Math.max(1, width), Math.max(1, height))
    this.px = new Uint32Array(this.image.data.buffer)
  }

  clear(): void { this.px.fill(0) }

  /** Pixels (x, y0..y1) inclusive, in either order, clipped to the buffer. */
  column(x: number, y0: number, y1: number, colour: number): void {
    if (x < 0 || x >= this.width) return
    let a = Math.min(y0, y1), b = Math.max(y0, y1)
    if (a < 0) a = 0
    if (b >= this.height) b = this.height - 1
    const w = this.width, px = this.px
    for (let i = a * w + x, end = b * w + x; i <= end; i += w) px[i] = colour
  }

  /** Pixels (x0..x1, y), clipped. */
  row(x0: number, x1: number, y: number, colour: number): void {
    if (y < 0 || y >= this.height) return
    const o = y * this.width
    this.px.fill(colour, o + Math.max(0, x0), o + Math.min(this.width, x1 + 1))
  }
}
