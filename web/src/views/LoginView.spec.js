// SPDX-License-Identifier: MIT
// LoginView.spec.js: each sign-in failure shows its own message.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import LoginView from './LoginView.vue'
import { useAuthStore } from '@/stores/auth.js'
import { ApiError } from '@/api/client.js'

async function mountLogin(loginImpl) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: LoginView },
      { path: '/', name: 'dashboard', component: { template: '<p>dash</p>' } },
    ],
  })
  router.push('/login')
  await router.isReady()
  const auth = useAuthStore()
  auth.login = vi.fn(loginImpl)
  const w = mount(LoginView, { global: { plugins: [pinia, router] } })
  await w.get('[data-test=login-username]').setValue('local')
  await w.get('[data-test=login-password]').setValue('pw')
  await w.get('form').trigger('submit')
  await flushPromises()
  return { w, router, auth }
}

describe('LoginView', () => {
  beforeEach(() => localStorage.clear())

  it('wrong credentials', async () => {
    const { w } = await mountLogin(async () => {
      throw new ApiError({ kind: 'http', status: 401, code: 'invalid_credentials', message: 'x' })
    })
    expect(w.get('[data-test=login-error]').text()).toBe('Wrong username or password.')
  })

  it('rate limited: says how long to wait and disables the button', async () => {
    vi.useFakeTimers()
    const { w } = await mountLogin(async () => {
      throw new ApiError({
        kind: 'http',
        status: 429,
        code: 'rate_limited',
        message: 'x',
        retryAfterS: 30,
      })
    })
    expect(w.get('[data-test=login-error]').text()).toContain('Try again in 30 s')
    expect(w.get('[data-test=login-submit]').attributes('disabled')).toBeDefined()
    vi.advanceTimersByTime(30_000)
    await flushPromises()
    expect(w.find('[data-test=login-error]').exists()).toBe(false)
    vi.useRealTimers()
  })

  it('server unreachable', async () => {
    const { w } = await mountLogin(async () => {
      throw new ApiError({ kind: 'unreachable', message: 'x' })
    })
    const err = w.get('[data-test=login-error]')
    expect(err.attributes('data-kind')).toBe('unreachable')
    expect(err.text()).toMatch(/Cannot reach the beamtel server/)
  })

  it('success goes to the dashboard', async () => {
    const { router } = await mountLogin(async () => ({ username: 'local' }))
    expect(router.currentRoute.value.name).toBe('dashboard')
  })
})
