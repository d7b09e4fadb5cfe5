// SPDX-License-Identifier: MIT
// useTelemetrySocket.spec.js: auth first, backoff with jitter that grows, 4401 signs out.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { effectScope, nextTick } from 'vue'
import { useAuthStore } from '@/stores/auth.js'
import { useTelemetryStore } from '@/stores/telemetry.js'
import { DEFAULT_BACKOFF, backoffDelay, useTelemetrySocket } from './useTelemetrySocket.js'

// A stand-in for the browser's WebSocket, for this test only.
class MockWebSocket {
  static instances = []
  constructor(url) {
    this.url = url
    this.readyState = 0
    this.sent = []
    MockWebSocket.instances.push(this)
  }
  send(data) {
    if (this.readyState !== 1) throw new Error('not open')
    this.sent.push(JSON.parse(data))
  }
  close(code = 1000, reason = '') {
    this.serverClose(code, reason)
  }
  // test helpers: what the server would do
  serverOpen() {
    this.readyState = 1
    this.onopen?.({})
  }
  serverSend(msg) {
    this.onmessage?.({ data: JSON.stringify(msg) })
  }
  serverClose(code, reason = '') {
    if (this.readyState === 3) return
    this.readyState = 3
    this.onclose?.({ code, reason })
  }
}

const last = () => MockWebSocket.instances[MockWebSocket.instances.length - 1]

function setup(extra = {}) {
  const router = { replace: vi.fn(), currentRoute: { value: { name: 'dashboard', fullPath: '/' } } }
  const scope = effectScope()
  const sock = scope.run(() =>
    useTelemetrySocket({
      WebSocket: MockWebSocket,
      url: 'ws://test/ws',
      random: () => 0.5, // no jitter: exact delays
      router,
      ...extra,
    }),
  )
  return { sock, router, scope }
}

describe('useTelemetrySocket', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    localStorage.clear()
    MockWebSocket.instances = []
    setActivePinia(createPinia())
    useAuthStore().setSession('tok-A', new Date(Date.now() + 3_600_000).toISOString(), {
      username: 'local',
    })
  })
  afterEach(() => vi.useRealTimers())

  it('sends the auth message first, then feeds frames to the store', () => {
    const { sock, scope } = setup()
    sock.connect()
    const ws = last()
    expect(ws.url).toBe('ws://test/ws')
    expect(useTelemetryStore().connection).toBe('connecting')
    ws.serverOpen()
    expect(ws.sent).toEqual([{ type: 'auth', token: 'tok-A' }])
    ws.serverSend({ type: 'hello', user: { username: 'local' }, expires_at: 'x', version: '0.1.0' })
    const t = useTelemetryStore()
    expect(t.connection).toBe('nodata')
    ws.serverSend({ type: 'frame', ts_us: 1, speed_mps: 20, gear: 2, session: null })
    t.commit()
    expect(t.latest.speed_mps).toBe(20)
    expect(t.connection).toBe('live')
    ws.serverSend({ type: 'status', hint: null })
    expect(t.status.hint).toBeNull()
    ws.onmessage({ data: 'not json' }) // ignored, no throw
    scope.stop()
  })

  it('reconnects with growing backoff and authenticates again', () => {
    const { sock, scope } = setup()
    sock.connect()
    const delays = []
    for (let k = 0; k < 7; k++) {
      const ws = last()
      ws.serverOpen()
      expect(ws.sent[0]).toEqual({ type: 'auth', token: 'tok-A' })
      ws.serverClose(1006)
      expect(useTelemetryStore().connection).toBe('reconnecting')
      delays.push(sock.lastDelayMs.value)
      const before = MockWebSocket.instances.length
      vi.advanceTimersByTime(sock.lastDelayMs.value - 1)
      expect(MockWebSocket.instances.length).toBe(before)
      vi.advanceTimersByTime(1)
      expect(MockWebSocket.instances.length).toBe(before + 1)
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000])
    scope.stop()
  })

  it('jitter spreads the delay by ±25 % around the exponential step', () => {
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(1500)
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 1)).toBe(2500)
    expect(backoffDelay(20, DEFAULT_BACKOFF, () => 1)).toBe(15000) // never above the ceiling
  })

  it('a connection that lived ≥ 10 s resets the backoff', () => {
    const { sock, scope } = setup()
    sock.connect()
    last().serverOpen()
    last().serverClose(1006)
    vi.advanceTimersByTime(500)
    last().serverOpen()
    last().serverClose(1006)
    expect(sock.lastDelayMs.value).toBe(1000)
    vi.advanceTimersByTime(1000)
    last().serverOpen()
    last().serverSend({ type: 'hello' })
    vi.advanceTimersByTime(10_000)
    last().serverClose(1001) // server restart
    expect(sock.lastDelayMs.value).toBe(500)
    scope.stop()
  })

  it('close 4401 signs out, redirects to login with a message, and does not retry', () => {
    const { sock, router, scope } = setup()
    sock.connect()
    last().serverOpen()
    last().serverClose(4401, 'token expired')
    const auth = useAuthStore()
    expect(auth.token).toBeNull()
    expect(auth.notice).toMatch(/expired/i)
    expect(useTelemetryStore().connection).toBe('auth-expired')
    expect(router.replace).toHaveBeenCalledWith({ name: 'login', query: { redirect: '/' } })
    const n = MockWebSocket.instances.length
    vi.advanceTimersByTime(60_000)
    expect(MockWebSocket.instances.length).toBe(n)
    scope.stop()
  })

  it('a new token re-authenticates the open socket; sign-out closes it', async () => {
    const { sock, scope } = setup()
    sock.connect()
    const ws = last()
    ws.serverOpen()
    const auth = useAuthStore()
    auth.setSession('tok-B', new Date(Date.now() + 3_600_000).toISOString(), null)
    await nextTick()
    expect(ws.sent.map((m) => m.token)).toEqual(['tok-A', 'tok-B'])
    auth.logout()
    await nextTick()
    expect(ws.readyState).toBe(3)
    expect(useTelemetryStore().connection).toBe('idle')
    vi.advanceTimersByTime(60_000)
    expect(MockWebSocket.instances.length).toBe(1)
    scope.stop()
  })

  it('does not connect without a token', () => {
    useAuthStore().logout()
    const { sock, scope } = setup()
    sock.connect()
    expect(MockWebSocket.instances.length).toBe(0)
    scope.stop()
  })
})
