// SPDX-License-Identifier: MIT
// ring.spec.js: RingSeries wraps, copies in order and never grows.
import { describe, expect, it } from 'vitest'
import { RingSeries } from './ring.js'

describe('RingSeries', () => {
  it('copies oldest → newest across the wrap, scaled', () => {
    const r = new RingSeries(4, ['v'])
    for (let i = 1; i <= 6; i++) r.push({ v: i })
    const out = new Float64Array(4)
    expect(r.copyOrdered('v', out)).toBe(4)
    expect([...out]).toEqual([3, 4, 5, 6])
    r.copyOrdered('v', out, 10)
    expect([...out]).toEqual([30, 40, 50, 60])
    expect(r.writes).toBe(6)
  })

  it('partially filled buffers copy only their rows', () => {
    const r = new RingSeries(8, ['v'])
    r.push({ v: 1 })
    r.push({})
    const out = new Float64Array(8)
    expect(r.copyOrdered('v', out)).toBe(2)
    expect(out[0]).toBe(1)
    expect(Number.isNaN(out[1])).toBe(true)
  })

  it('rejects a zero capacity', () => {
    expect(() => new RingSeries(0, ['v'])).toThrow(RangeError)
  })
})
