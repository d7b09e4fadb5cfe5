// SPDX-License-Identifier: MIT
// units.spec.js: the exact conversions of the issue and the km/h-or-mph decision.
import { describe, expect, it } from 'vitest'
import { fmtNum } from './format.js'
import { distanceIn, frameUsesKm, mpsToKmh, mpsToMph, resolveUnit, speedIn } from './units.js'

describe('units', () => {
  it('13.8889 m/s = 50.0 km/h = 31.07 mph', () => {
    expect(fmtNum(mpsToKmh(13.8889), 1)).toBe('50.0')
    expect(fmtNum(mpsToMph(13.8889), 2)).toBe('31.07')
    expect(mpsToKmh(13.8889)).toBeCloseTo(50.00004, 5)
    expect(mpsToMph(13.8889)).toBeCloseTo(31.0686, 4)
  })

  it('20.0 m/s shows as 72 km/h and 45 mph', () => {
    expect(fmtNum(speedIn(20, 'kmh'), 0)).toBe('72')
    expect(fmtNum(speedIn(20, 'mph'), 0)).toBe('45')
  })

  it('distances: km and miles', () => {
    expect(distanceIn(1609.344, 'mph')).toBeCloseTo(1, 12)
    expect(distanceIn(2500, 'kmh')).toBe(2.5)
    expect(distanceIn(null, 'kmh')).toBeNull()
  })

  it('null stays null', () => {
    expect(mpsToKmh(null)).toBeNull()
    expect(mpsToMph(NaN)).toBeNull()
  })

  it('follows the game flag unless the user chose', () => {
    expect(frameUsesKm({ flags: 0x4000, gear: 2 })).toBe(true)
    expect(frameUsesKm({ flags: 0x2000, gear: 2 })).toBe(false)
    expect(frameUsesKm({ km: false, flags: 0x4000, gear: 2 })).toBe(false)
    expect(frameUsesKm({ flags: 0, gear: null })).toBeNull() // MotionSim only: says nothing
    expect(resolveUnit('auto', true)).toBe('kmh')
    expect(resolveUnit('auto', false)).toBe('mph')
    expect(resolveUnit('auto', null)).toBe('kmh')
    expect(resolveUnit('kmh', false)).toBe('kmh')
    expect(resolveUnit('mph', true)).toBe('mph')
  })
})
