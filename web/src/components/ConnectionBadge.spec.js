// SPDX-License-Identifier: MIT
// ConnectionBadge.spec.js: each connection state reads as the driver expects.
import { beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { nextTick } from 'vue'
import ConnectionBadge from './ConnectionBadge.vue'
import { useTelemetryStore } from '@/stores/telemetry.js'

describe('ConnectionBadge', () => {
  let pinia
  beforeEach(() => {
    pinia = createPinia()
    setActivePinia(pinia)
  })

  it('connecting, live, no data for N s, reconnecting, auth expired', async () => {
    const t = useTelemetryStore()
    const w = mount(ConnectionBadge, { global: { plugins: [pinia] } })
    t.setConnection('connecting')
    await nextTick()
    expect(w.text()).toBe('Connecting…')
    t.setConnection('live')
    await nextTick()
    expect(w.text()).toBe('Live')
    t.setConnection('nodata')
    t.noDataS = 7
    await nextTick()
    expect(w.text()).toBe('No data for 7 s')
    t.setConnection('reconnecting', Date.now() + 4000)
    await nextTick()
    expect(w.text()).toMatch(/retrying in [34] s/)
    t.setConnection('auth-expired')
    await nextTick()
    expect(w.text()).toBe('Auth expired')
    w.unmount()
  })
})
