// SPDX-License-Identifier: MIT
// replay.spec.js: bucket lookup and frames rebuilt from min/max series.
import { describe, expect, it } from 'vitest'
import { frameAt, frameNear, indexAt, seriesDuration, spanShortGaps } from './replay.js'

const series = {
  t: [0, 0.5, 1.0, 1.5],
  speed_mps: { min: [0, -3, 2, null], max: [1, 1, 5, null] },
  rpm: { min: [800, 900, 1000, null], max: [900, 1200, 3000, null] },
  gear: { min: [0, 1, 2, null], max: [1, 1, 3, null] },
  throttle: { min: [0, 0, 0.2, null], max: [0.1, 0.5, 1, null] },
  g_force_x: { min: [null, -0.4, 0.1, null], max: [null, 0.2, 0.3, null] },
  g_force_y: { min: [null, 0, 0, null], max: [null, 0.1, 0.1, null] },
}

describe('replay', () => {
  it('finds the bucket at or before t', () => {
    expect(indexAt(series.t, -1)).toBe(0)
    expect(indexAt(series.t, 0.49)).toBe(0)
    expect(indexAt(series.t, 0.5)).toBe(1)
    expect(indexAt(series.t, 1.2)).toBe(2)
    expect(indexAt(series.t, 99)).toBe(3)
    expect(indexAt([], 1)).toBe(-1)
  })

  it('rebuilds a frame: extremes, signed by magnitude, nulls kept', () => {
    const f = frameAt(series, 1)
    expect(f.speed_mps).toBe(-3)
    expect(f.rpm).toBe(1200)
    expect(f.gear).toBe(1)
    expect(f.g_force_x).toBe(-0.4)
    expect(f.clutch).toBeNull() // not in the series
    const empty = frameAt(series, 3)
    expect(empty.speed_mps).toBeNull()
    expect(empty.gear).toBeNull()
    expect(seriesDuration(series)).toBe(1.5)
  })

  it('an empty bucket shows the previous one with data', () => {
    expect(frameNear(series, 3).speed_mps).toBe(5)
    expect(frameNear(series, 3, 0).speed_mps).toBeNull()
  })

  it('joins short gaps, keeps long ones', () => {
    const t = [0, 0.1, 0.2, 0.3, 2.0, 2.1]
    const out = spanShortGaps([1, null, 2, null, null, 3], t)
    expect(out[1]).toBeUndefined() // 0.2 s gap: joined
    expect(out[3]).toBeNull() // 1.9 s gap: a real gap
    expect(out[4]).toBeNull()
    expect(spanShortGaps([null, 1], [0, 1])[0]).toBeNull() // leading: nothing to join
  })
})
