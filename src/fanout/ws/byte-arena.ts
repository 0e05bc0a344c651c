// Owns the frame batch's bytes: one WebAssembly memory, a Buffer over it, and copies within it by memory.copy.
// Must never hand out a view that outlives a grow (growing detaches the old memory): views are for one send, at once.

/**
 * Why WebAssembly (issue 12): the batch copies each delivered update once, from the published frame into the frame it
 * composes for a connection, ~2 M copies a second of ~100 bytes each. `Uint8Array.prototype.copyWithin` is a C++
 * builtin, ~16 ns a call on the test machine whatever the length; a call into this module's `memory.copy` is ~7 ns
 * (`node` microbenchmark, 90-byte copies, 5 M each, alternating).
 *
 * The module, in text form:
 *   (module (memory (export "mem") 1)
 *     (func (export "copy") (param $to i32) (param $from i32) (param $len i32)
 *       (memory.copy (local.get $to) (local.get $from) (local.get $len))))
 */
const MODULE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // type section: (i32, i32, i32) -> ()
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory section: one memory, at least 1 page
  0x07, 0x0e, 0x02, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x04, 0x63, 0x6f, 0x70, 0x79, 0x00, 0x00, // exports: mem, copy
  0x0a, 0x0e, 0x01, 0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc, 0x0a, 0x00, 0x00, 0x0b, // code: memory.copy
])
/** compiled once per thread (the fan-out workers each have their own batch) */
let compiled: WebAssembly.Module | null = null

const PAGE_BYTES = 65536

interface ArenaExports { mem: WebAssembly.Memory; copy(to: number, from: number, len: number): void }

const copyWithin = Uint8Array.prototype.copyWithin

export class ByteArena {
  /** the whole memory as a Buffer (a new one after each grow: the old one is detached) */
  bytes: Buffer
  /** the WebAssembly memory; null where none could be made (below) */
  private readonly memory: WebAssembly.Memory | null
  /** the memory's ArrayBuffer (Memory.buffer is an API call: not once per send) */
  private buffer: ArrayBuffer
  private readonly copyFn: (to: number, from: number, len: number) => void

  /**
   * `wasm: false` (tests), or a process whose address space is capped (`ulimit -v`: V8 reserves ~10 GiB of address
   * space, not memory, per WebAssembly memory, and fails under a smaller cap), gets a plain buffer and copyWithin.
   */
  constructor(initialBytes: number, opts: { wasm?: boolean } = {}) {
    let memory: WebAssembly.Memory | null = null, copy: ArenaExports['copy'] | null = null
    if (opts.wasm !== false) {
      try {
        const ex = new WebAssembly.Instance(compiled ??= new WebAssembly.Module(MODULE_BYTES)).exports as unknown as ArenaExports
        memory = ex.mem; copy = ex.copy
        const have = memory.buffer.byteLength
        if (initialBytes > have) memory.grow(Math.ceil((initialBytes - have) / PAGE_BYTES))
      } catch { memory = null; copy = null }
    }
    this.memory = memory
    this.buffer = memory !== null ? memory.buffer : new ArrayBuffer(Math.ceil(initialBytes / PAGE_BYTES) * PAGE_BYTES)
    this.bytes = Buffer.from(this.buffer)
    this.copyFn = copy ?? ((to, from, len) => { copyWithin.call(this.bytes, to, from, from + len) })
  }

  /** Does it copy with WebAssembly (else copyWithin, ~2× the time a copy)? */
  get wasm(): boolean { return this.memory !== null }

  get size(): number { return this.bytes.length }

  /** Copies bytes [from, to) to `at` (the ranges may overlap). */
  copy(at: number, from: number, to: number): void { this.copyFn(at, from, to - from) }

  /** Bytes [from, to), for one send now (uWS copies or writes them before send returns). */
  view(from: number, to: number): Uint8Array { return new Uint8Array(this.buffer, from, to - from) }

  /** At least `bytes` in all, what is there kept in place. */
  ensure(bytes: number): void {
    const have = this.buffer.byteLength
    if (bytes <= have) return
    const pages = Math.ceil((bytes - have) / PAGE_BYTES)
    if (this.memory !== null) {
      this.memory.grow(pages)
      this.buffer = this.memory.buffer
    } else {
      const next = new ArrayBuffer(have + pages * PAGE_BYTES)
      new Uint8Array(next).set(this.bytes)
      this.buffer = next
    }
    this.bytes = Buffer.from(this.buffer)
  }
}
