// SPDX-License-Identifier: MIT
// index.js: one function per endpoint of docs/PROTOCOL.md; shapes the requests, not the state.
import { request, send } from './client.js'

export { ApiError, setTokenGetter, setUnauthorizedHandler, parseRetryAfter } from './client.js'

/** POST /api/auth/login → {token, expires_at, user}. */
export function login(username, password) {
  return request('POST', '/api/auth/login', { body: { username, password }, auth: false })
}

/** GET /api/health (public). */
export function health() {
  return request('GET', '/api/health', { auth: false })
}

/** GET /api/me → {user}. */
export function me() {
  return request('GET', '/api/me')
}

/** GET /api/status → {status}. */
export function status() {
  return request('GET', '/api/status')
}

/** GET /api/sessions?limit&before → {sessions, next_before}. */
export function listSessions({ limit = 20, before = null } = {}) {
  const q = new URLSearchParams({ limit: String(limit) })
  if (before != null) q.set('before', String(before))
  return request('GET', `/api/sessions?${q}`)
}

/** GET /api/sessions/{id} → {session…, events}. */
export function getSession(id) {
  return request('GET', `/api/sessions/${encodeURIComponent(id)}`)
}

/** GET /api/sessions/{id}/frames?points=N → {series}; N is clamped to the API's 2..20000. */
export function getSeries(id, points, { signal } = {}) {
  const n = Math.max(2, Math.min(20000, Math.round(points)))
  return request('GET', `/api/sessions/${encodeURIComponent(id)}/frames?points=${n}`, { signal })
}

/** DELETE /api/sessions/{id}. */
export function deleteSession(id) {
  return request('DELETE', `/api/sessions/${encodeURIComponent(id)}`)
}

/**
 * GET /api/sessions/{id}/export.csv as a Blob. The token travels in the header, so the download
 * goes through fetch and a Blob URL rather than a plain link (a link cannot carry the header,
 * and a token in the URL would leak into logs and history).
 */
export async function exportCsv(id) {
  const res = await send('GET', `/api/sessions/${encodeURIComponent(id)}/export.csv`, {
    accept: 'text/csv',
  })
  return res.blob()
}
