// SPDX-License-Identifier: MIT
// format.spec.js: "—" for null/NaN/undefined/Infinity, durations, no "-0".
import { describe, expect, it } from 'vitest'
import { DASH, fmtDuration, fmtNum, fmtPercent, withUnit } from './format.js'

describe('format', () => {
  it('renders missing numbers as —', () => {
    for (const v of [null, undefined, NaN, Infinity, -Infinity, '12']) {
      expect(fmtNum(v, 1)).toBe(DASH)
      expect(fmtPercent(v)).toBe(DASH)
      expect(fmtDuration(v)).toBe(DASH)
    }
    expect(DASH).toBe('—')
  })

  it('formats numbers', () => {
    expect(fmtNum(0, 0)).toBe('0')
    expect(fmtNum(-0.2, 0)).toBe('0')
    expect(fmtNum(-1.26, 1)).toBe('-1.3')
    expect(fmtPercent(0.456)).toBe('46')
    expect(withUnit(fmtNum(null), 'km')).toBe(DASH)
    expect(withUnit(fmtNum(2, 1), 'km')).toBe('2.0 km')
  })

  it('formats durations', () => {
    expect(fmtDuration(0)).toBe('0:00')
    expect(fmtDuration(65.9)).toBe('1:05')
    expect(fmtDuration(3723)).toBe('1:02:03')
  })
})
