// SPDX-License-Identifier: MIT
// GearLabel.spec.js: R/N/1… for gear −1/0/1…, "—" without a gear.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import GearLabel from './GearLabel.vue'

const text = (gear) => mount(GearLabel, { props: { gear } }).get('[data-test=gear]').text()

describe('GearLabel', () => {
  it('labels reverse, neutral and forward gears', () => {
    expect(text(-1)).toBe('R')
    expect(text(0)).toBe('N')
    expect(text(1)).toBe('1')
    expect(text(6)).toBe('6')
  })

  it('shows — for null and NaN', () => {
    expect(text(null)).toBe('—')
    expect(text(NaN)).toBe('—')
    expect(mount(GearLabel).get('[data-test=gear]').text()).toBe('—')
  })
})
