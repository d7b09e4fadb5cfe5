// SPDX-License-Identifier: MIT
// FumbletronBadge.spec.js: VALID is green, INVALID red, from /api/me's fumbletron object.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import FumbletronBadge from './FumbletronBadge.vue'

describe('FumbletronBadge', () => {
  it('VALID in green', () => {
    const w = mount(FumbletronBadge, {
      props: { fumbletron: { token: 'FT3156-X', valid: true, badge: 'Fumbletron-3156: VALID' } },
    })
    const el = w.get('[data-test=fumbletron]')
    expect(el.text()).toBe('Fumbletron-3156: VALID')
    expect(el.classes()).toContain('text-green-300')
  })

  it('INVALID in red, also without a badge string', () => {
    const w = mount(FumbletronBadge, { props: { fumbletron: { token: null, valid: false } } })
    const el = w.get('[data-test=fumbletron]')
    expect(el.text()).toBe('Fumbletron-3156: INVALID')
    expect(el.classes()).toContain('text-red-300')
  })

  it('nothing before /api/me answered', () => {
    expect(mount(FumbletronBadge).find('[data-test=fumbletron]').exists()).toBe(false)
  })
})
