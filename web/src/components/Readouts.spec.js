// SPDX-License-Identifier: MIT
// Readouts.spec.js: numbers render as "—" when null/NaN; the speed readout's units; lights.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import Readout from './Readout.vue'
import SpeedReadout from './SpeedReadout.vue'
import RpmBar from './RpmBar.vue'
import PedalBars from './PedalBars.vue'
import DashLights from './DashLights.vue'
import EngineInfo from './EngineInfo.vue'

describe('readouts', () => {
  it('Readout: — and no unit for null/NaN', () => {
    for (const value of [null, NaN, undefined]) {
      const w = mount(Readout, { props: { label: 'Oil', value, unit: '°C' } })
      expect(w.get('[data-test=readout-value]').text()).toBe('—')
    }
    const w = mount(Readout, { props: { label: 'Oil', value: 91.6, unit: '°C' } })
    expect(w.get('[data-test=readout-value]').text()).toBe('92°C')
  })

  it('SpeedReadout: 20.0 m/s → 72 km/h / 45 mph; reverse shows the magnitude; — for null', () => {
    const kmh = mount(SpeedReadout, { props: { speedMps: 20.0, unit: 'kmh' } })
    expect(kmh.get('[data-test=speed]').text()).toBe('72')
    expect(kmh.get('[data-test=speed-unit]').text()).toBe('km/h')
    const mph = mount(SpeedReadout, { props: { speedMps: 20.0, unit: 'mph' } })
    expect(mph.get('[data-test=speed]').text()).toBe('45')
    expect(mph.get('[data-test=speed-unit]').text()).toBe('mph')
    expect(mount(SpeedReadout, { props: { speedMps: -5, unit: 'kmh' } }).text()).toContain('18')
    expect(
      mount(SpeedReadout, { props: { speedMps: null } })
        .get('[data-test=speed]')
        .text(),
    ).toBe('—')
    expect(
      mount(SpeedReadout, { props: { speedMps: NaN } })
        .get('[data-test=speed]')
        .text(),
    ).toBe('—')
  })

  it('RpmBar and PedalBars: — for missing values', () => {
    expect(
      mount(RpmBar, { props: { rpm: null } })
        .get('[data-test=rpm]')
        .text(),
    ).toBe('—')
    const p = mount(PedalBars, { props: { throttle: 0.5, brake: null, clutch: NaN } })
    expect(p.get('[data-test=throttle]').text()).toBe('50')
    expect(p.get('[data-test=brake]').text()).toBe('—')
    expect(p.get('[data-test=clutch]').text()).toBe('—')
  })

  it('EngineInfo: — for every missing field', () => {
    const w = mount(EngineInfo, { props: {} })
    expect(w.get('[data-test=fuel]').text()).toBe('—')
    for (const v of w.findAll('[data-test=readout-value]')) expect(v.text()).toBe('—')
  })

  it('DashLights: lit, dark and unreported lights from the bits', () => {
    const dash = (1 << 2) | (1 << 10) | (1 << 4) | (1 << 5) | (1 << 0)
    const show = (1 << 2) | (1 << 10)
    const w = mount(DashLights, { props: { dashLights: dash, showLights: show } })
    const state = (k) => w.get(`[data-test=light-${k}]`).attributes('data-state')
    expect(state('handbrake')).toBe('on')
    expect(state('abs')).toBe('on')
    expect(state('tc')).toBe('off')
    expect(state('signal_l')).toBe('off')
    expect(state('signal_r')).toBe('na')
    expect(state('shift')).toBe('off')
    const none = mount(DashLights, { props: { dashLights: null, showLights: null } })
    expect(none.get('[data-test=light-abs]').attributes('data-state')).toBe('na')
  })
})
