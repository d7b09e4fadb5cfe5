// SPDX-License-Identifier: MIT
// client.js: the one fetch wrapper: bearer token, JSON, the API's error shape; knows no store.
//
// Tokens go only in the Authorization header, never in a URL (docs/PROTOCOL.md). The auth store
// registers the token getter and the 401 handler at start-up; this module imports no store, so
// stores and tests can use it without a Pinia instance.

let tokenGetter = () => null
let unauthorizedHandler = () => {}

/** Sets where the bearer token comes from. */
export function setTokenGetter(fn) {
  tokenGetter = fn
}

/** Sets what happens when an authenticated request answers 401 (the token is dead). */
export function setUnauthorizedHandler(fn) {
  unauthorizedHandler = fn
}

/** An API failure: `kind` is 'http' (the server answered) or 'unreachable' (it did not). */
export class ApiError extends Error {
  constructor({ kind, status = 0, code = '', message, retryAfterS = null }) {
    super(message)
    this.name = 'ApiError'
    this.kind = kind
    this.status = status
    this.code = code
    this.retryAfterS = retryAfterS
  }
}

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); null if absent. */
export function parseRetryAfter(value, nowMs = Date.now()) {
  if (value == null || value === '') return null
  const n = Number(value)
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n))
  const t = Date.parse(value)
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - nowMs) / 1000))
}

// A proxy in front of a stopped server (Vite's dev proxy, nginx) answers 502/503/504 with a page
// of its own: to the user that is the same as no answer at all.
const GATEWAY = new Set([502, 503, 504])

function unreachable() {
  return new ApiError({
    kind: 'unreachable',
    message: 'Cannot reach the beamtel server. Is `beamtel serve` running?',
  })
}

async function errorFrom(res) {
  let code = ''
  let message = `${res.status} ${res.statusText}`.trim()
  try {
    const body = await res.json()
    if (body && body.error) {
      code = body.error.code || ''
      message = body.error.message || message
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError({
    kind: 'http',
    status: res.status,
    code,
    message,
    retryAfterS: parseRetryAfter(res.headers.get('Retry-After')),
  })
}

/**
 * Sends one request and returns the raw Response when it is 2xx. `auth` (default true) adds
 * the bearer token and turns a 401 into a logout. Throws ApiError otherwise.
 */
export async function send(method, path, { body, auth = true, signal, accept } = {}) {
  const headers = { Accept: accept || 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (auth) {
    const token = tokenGetter()
    if (!token) {
      unauthorizedHandler('Please sign in.')
      throw new ApiError({
        kind: 'http',
        status: 401,
        code: 'unauthorized',
        message: 'Not signed in',
      })
    }
    headers.Authorization = `Bearer ${token}`
  }
  let res
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'same-origin',
      cache: 'no-store',
    })
  } catch (e) {
    if (e && e.name === 'AbortError') throw e
    throw unreachable()
  }
  if (GATEWAY.has(res.status)) throw unreachable()
  if (!res.ok) {
    const err = await errorFrom(res)
    if (auth && res.status === 401) unauthorizedHandler('Your sign-in is no longer valid.')
    throw err
  }
  return res
}

/** Like send() but returns the parsed JSON body (null for 204). */
export async function request(method, path, opts) {
  const res = await send(method, path, opts)
  if (res.status === 204) return null
  const text = await res.text()
  return text ? JSON.parse(text) : null
}
