// SPDX-License-Identifier: MIT
// auth.spec.js: the token is persisted, restored, and cleared at expiry or logout.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { STORAGE_KEY, useAuthStore } from './auth.js'

const user = {
  id: 1,
  username: 'local',
  fumbletron: { valid: true, badge: 'Fumbletron-3156: VALID' },
}

describe('auth store', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-12-03T12:00:00Z'))
    localStorage.clear()
    setActivePinia(createPinia())
  })
  afterEach(() => vi.useRealTimers())

  it('persists the token with its expiry', () => {
    const auth = useAuthStore()
    auth.setSession('tok-1', '2026-12-04T00:00:00.000Z', user)
    expect(auth.isAuthenticated).toBe(true)
    expect(auth.username).toBe('local')
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY))
    expect(stored.token).toBe('tok-1')
    expect(stored.expiresAt).toBe(Date.parse('2026-12-04T00:00:00.000Z'))
  })

  it('clears the token when it expires, with a message for the login page', () => {
    const auth = useAuthStore()
    auth.setSession('tok-2', new Date(Date.now() + 5000).toISOString(), user)
    vi.advanceTimersByTime(4999)
    expect(auth.token).toBe('tok-2')
    vi.advanceTimersByTime(1)
    expect(auth.token).toBeNull()
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.notice).toMatch(/expired/i)
    expect(localStorage.getItem(STORAGE_KEY)).toBeNull()
  })

  it('restores a live token after a reload and drops an expired one', () => {
    localStorage.setItem(
      STORAGE_KEY,
      JSON.stringify({ token: 'tok-3', expiresAt: Date.now() + 60_000, user }),
    )
    const a = useAuthStore()
    expect(a.restore()).toBe(true)
    expect(a.token).toBe('tok-3')
    vi.advanceTimersByTime(60_000)
    expect(a.token).toBeNull()

    setActivePinia(createPinia())
    localStorage.setItem(
      STORAGE_KEY,
      JSON.stringify({ token: 'old', expiresAt: Date.now() - 1, user }),
    )
    const b = useAuthStore()
    expect(b.restore()).toBe(false)
    expect(b.token).toBeNull()
    expect(localStorage.getItem(STORAGE_KEY)).toBeNull()
  })

  it('an already expired token from login is cleared at once', () => {
    const auth = useAuthStore()
    auth.setSession('tok-4', new Date(Date.now() - 1000).toISOString(), user)
    expect(auth.token).toBeNull()
  })

  it('logout forgets everything', () => {
    const auth = useAuthStore()
    auth.setSession('tok-5', new Date(Date.now() + 3_600_000).toISOString(), user)
    auth.logout('You signed out.')
    expect(auth.token).toBeNull()
    expect(auth.user).toBeNull()
    expect(auth.notice).toBe('You signed out.')
    expect(localStorage.getItem(STORAGE_KEY)).toBeNull()
  })

  it('ignores corrupt storage', () => {
    localStorage.setItem(STORAGE_KEY, '{not json')
    const auth = useAuthStore()
    expect(auth.restore()).toBe(false)
  })
})

describe('auth store: user from the WebSocket hello', () => {
  beforeEach(() => {
    localStorage.clear()
    setActivePinia(createPinia())
  })

  it('merges a partial user and ignores another user', () => {
    const auth = useAuthStore()
    auth.setSession('t', new Date(Date.now() + 60_000).toISOString(), user)
    auth.setUser({ username: 'local' })
    expect(auth.user.fumbletron.valid).toBe(true)
    auth.setUser({ username: 'someone-else', id: 9 })
    expect(auth.user.id).toBe(1)
  })
})
