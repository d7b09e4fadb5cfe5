// SPDX-License-Identifier: MIT
// ring.js: fixed-capacity ring buffers of parallel Float64Array channels; never grows.
//
// The live dashboard pushes up to ~60 frames a second for hours: every chart and trail reads
// from one of these, so memory stays at capacity × channels × 8 bytes whatever the run time.

export class RingSeries {
  /**
   * `capacity` rows of the named channels (e.g. ['t', 'speed']); all storage is allocated here
   * and only here.
   */
  constructor(capacity, channels) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be ≥ 1')
    this.capacity = capacity
    this.channels = channels.slice()
    this.cols = Object.create(null)
    for (const name of channels) this.cols[name] = new Float64Array(capacity)
    this.head = 0 // index of the next write
    this.length = 0 // rows held, ≤ capacity
    this.writes = 0 // rows ever written: lets readers see a change without a callback
  }

  /** Claims the next row (overwriting the oldest when full) and returns its index. */
  next() {
    const i = this.head
    this.head = i + 1 === this.capacity ? 0 : i + 1
    if (this.length < this.capacity) this.length++
    this.writes++
    return i
  }

  /** Appends one row given as an object of channel → number (missing channels become NaN). */
  push(row) {
    const i = this.next()
    for (const name of this.channels) {
      const v = row[name]
      this.cols[name][i] = typeof v === 'number' ? v : NaN
    }
    return i
  }

  /** Storage index of the n-th oldest row (0 = oldest). */
  index(n) {
    const start = this.length < this.capacity ? 0 : this.head
    const i = start + n
    return i >= this.capacity ? i - this.capacity : i
  }

  /** Value of `name` in the n-th oldest row. */
  at(name, n) {
    return this.cols[name][this.index(n)]
  }

  /** Value of `name` in the newest row, or NaN when empty. */
  last(name) {
    return this.length ? this.at(name, this.length - 1) : NaN
  }

  /**
   * Copies channel `name` oldest → newest into `out` (length ≥ capacity), multiplied by `scale`,
   * and returns the number of rows written. Two block copies, no allocation.
   */
  copyOrdered(name, out, scale = 1) {
    const col = this.cols[name]
    const n = this.length
    const start = n < this.capacity ? 0 : this.head
    const firstLen = Math.min(n, this.capacity - start)
    if (scale === 1) {
      out.set(col.subarray(start, start + firstLen), 0)
      if (firstLen < n) out.set(col.subarray(0, n - firstLen), firstLen)
    } else {
      for (let k = 0; k < n; k++) {
        const i = start + k
        out[k] = col[i >= this.capacity ? i - this.capacity : i] * scale
      }
    }
    return n
  }

  /** Forgets every row; storage is kept. */
  clear() {
    this.head = 0
    this.length = 0
    this.writes++
  }

  /** Bytes held by the channel arrays (constant for the life of the buffer). */
  get byteLength() {
    let b = 0
    for (const name of this.channels) b += this.cols[name].byteLength
    return b
  }
}
