// SPDX-License-Identifier: MIT
// useTelemetrySocket.js: owns the one WebSocket to /ws and feeds the telemetry store; nothing else
// opens a socket.
//
// Protocol (docs/PROTOCOL.md): the first message is {"type":"auth","token"}; the server answers
// "hello", then streams "frame", "session" and "status" messages. A drop reconnects with
// exponential backoff and jitter and authenticates again; close 4401 (auth failed or expired)
// signs the user out and sends them to the login page with a message, without retrying.
import { getCurrentInstance, getCurrentScope, onScopeDispose, ref, watch } from 'vue'
import { useRouter } from 'vue-router'
import { useAuthStore } from '@/stores/auth.js'
import { useTelemetryStore } from '@/stores/telemetry.js'

export const CLOSE_AUTH = 4401
export const CLOSE_TOO_SLOW = 4408

export const DEFAULT_BACKOFF = {
  baseMs: 500, // first retry
  factor: 2,
  maxMs: 15000, // ceiling: a restarted server is found within 15 s
  jitter: 0.25, // ±25 %: many tabs do not reconnect in lockstep
  stableMs: 10000, // a connection that lived this long resets the backoff
}

/** Same-origin ws:// or wss:// URL of /ws. */
export function defaultSocketUrl(loc = globalThis.location) {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${proto}//${loc.host}/ws`
}

/** Backoff delay in ms before retry number `attempt` (0-based), with jitter from `random`. */
export function backoffDelay(attempt, opts = DEFAULT_BACKOFF, random = Math.random) {
  const raw = Math.min(opts.maxMs, opts.baseMs * opts.factor ** attempt)
  const spread = 1 + opts.jitter * (2 * random() - 1)
  return Math.round(Math.min(opts.maxMs, raw * spread))
}

function authMessage(reason) {
  const r = (reason || '').toLowerCase()
  if (r.includes('expire')) return 'Your session expired. Please sign in again.'
  return reason
    ? `The server ended the live stream: ${reason}. Please sign in again.`
    : 'The server did not accept your sign-in for the live stream. Please sign in again.'
}

/**
 * Connects the live stream. Options (all optional, mainly for tests): `url`, `WebSocket`
 * (constructor), `backoff`, `random`, `router`, `onSessionEvent(msg)`. Returns
 * {connect, disconnect, attempt, lastDelayMs}. Disconnects when the calling scope is disposed.
 */
export function useTelemetrySocket(opts = {}) {
  const auth = useAuthStore()
  const telemetry = useTelemetryStore()
  const WS = opts.WebSocket ?? globalThis.WebSocket
  const backoff = { ...DEFAULT_BACKOFF, ...opts.backoff }
  const random = opts.random ?? Math.random
  const router = opts.router ?? (getCurrentInstance() ? useRouter() : null)
  const url = opts.url ?? defaultSocketUrl()

  const attempt = ref(0) // consecutive failed connections
  const lastDelayMs = ref(0)
  let ws = null
  let openedAt = 0 // ms epoch of the last hello on the current socket
  let retryTimer = null
  let tickTimer = null
  let wanted = false // connect() called and not disconnect()ed

  function sendAuth() {
    if (ws && ws.readyState === 1 && auth.token) {
      ws.send(JSON.stringify({ type: 'auth', token: auth.token }))
    }
  }

  function handle(data) {
    let msg
    try {
      msg = JSON.parse(data)
    } catch {
      return // not ours to crash on
    }
    switch (msg?.type) {
      case 'frame':
        telemetry.pushFrame(msg)
        break
      case 'hello':
        openedAt = Date.now()
        telemetry.onHello(msg)
        if (msg.user) auth.setUser(msg.user)
        break
      case 'status':
        telemetry.onStatus(msg)
        break
      case 'session':
        telemetry.onSessionEvent(msg)
        opts.onSessionEvent?.(msg)
        break
    }
  }

  function open() {
    clearTimeout(retryTimer)
    retryTimer = null
    if (!auth.token) {
      telemetry.setConnection('idle')
      return
    }
    telemetry.setConnection('connecting')
    openedAt = 0
    let sock
    try {
      sock = new WS(url)
    } catch {
      scheduleRetry()
      return
    }
    ws = sock
    sock.onopen = () => {
      if (ws === sock) sendAuth() // the first message, always
    }
    sock.onmessage = (ev) => {
      if (ws === sock) handle(ev.data)
    }
    sock.onerror = () => {} // a close event follows; it decides
    sock.onclose = (ev) => {
      if (ws !== sock) return
      ws = null
      onClose(ev.code, ev.reason)
    }
  }

  function onClose(code, reason) {
    console.info(`beamtel: live stream closed (${code}${reason ? ` ${reason}` : ''})`)
    if (code === CLOSE_AUTH) {
      wanted = false
      stopTick()
      telemetry.setConnection('auth-expired')
      auth.logout(authMessage(reason))
      const here = router?.currentRoute?.value
      const redirect = here && here.name !== 'login' ? here.fullPath : undefined
      router?.replace({ name: 'login', query: redirect ? { redirect } : {} })
      return
    }
    if (!wanted) {
      telemetry.setConnection('idle')
      return
    }
    if (openedAt && Date.now() - openedAt >= backoff.stableMs) attempt.value = 0
    scheduleRetry()
  }

  function scheduleRetry() {
    const d = backoffDelay(attempt.value, backoff, random)
    attempt.value++
    lastDelayMs.value = d
    telemetry.setConnection('reconnecting', Date.now() + d)
    retryTimer = setTimeout(() => {
      retryTimer = null
      if (wanted) open()
    }, d)
  }

  function startTick() {
    if (!tickTimer) tickTimer = setInterval(() => telemetry.tick(), 1000)
  }

  function stopTick() {
    clearInterval(tickTimer)
    tickTimer = null
  }

  /** Starts (or keeps) the stream. */
  function connect() {
    wanted = true
    startTick()
    if (!ws && !retryTimer) open()
  }

  /** Stops the stream and any pending retry. */
  function disconnect() {
    wanted = false
    clearTimeout(retryTimer)
    retryTimer = null
    stopTick()
    if (ws) {
      const s = ws
      ws = null
      try {
        s.close(1000, 'client closed')
      } catch {
        // already closing
      }
    }
    telemetry.setConnection('idle')
  }

  // A new token (signed in again, or in another tab) re-authenticates the open socket; no
  // token at all ends the stream.
  const stopWatch = watch(
    () => auth.token,
    (token) => {
      if (!token) disconnect()
      else if (ws && ws.readyState === 1) sendAuth()
      else if (wanted && !ws && !retryTimer) open()
    },
  )

  if (getCurrentScope()) {
    onScopeDispose(() => {
      stopWatch()
      disconnect()
    })
  }

  return { connect, disconnect, attempt, lastDelayMs }
}
