// SPDX-License-Identifier: MIT
// client.spec.js: the API error shape, Retry-After, unreachable server, bearer header.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ApiError,
  parseRetryAfter,
  request,
  setTokenGetter,
  setUnauthorizedHandler,
} from './client.js'

function respond(status, body, headers = {}) {
  return new Response(body == null ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

describe('api client', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    setTokenGetter(() => null)
    setUnauthorizedHandler(() => {})
  })

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('42')).toBe(42)
    expect(parseRetryAfter(null)).toBeNull()
    const now = Date.parse('2026-12-03T12:00:00Z')
    expect(parseRetryAfter('Thu, 03 Dec 2026 12:00:30 GMT', now)).toBe(30)
  })

  it('sends the bearer token in the header, never the URL', async () => {
    const fetchMock = vi.fn(async () => respond(200, { ok: true }))
    vi.stubGlobal('fetch', fetchMock)
    setTokenGetter(() => 'secret-token')
    await request('GET', '/api/me')
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('/api/me')
    expect(url).not.toContain('secret')
    expect(init.headers.Authorization).toBe('Bearer secret-token')
  })

  it('maps 401 invalid_credentials and 429 with Retry-After', async () => {
    vi.stubGlobal(
      'fetch',
      vi
        .fn()
        .mockResolvedValueOnce(
          respond(401, { error: { code: 'invalid_credentials', message: 'bad' } }),
        )
        .mockResolvedValueOnce(
          respond(
            429,
            { error: { code: 'rate_limited', message: 'slow down' } },
            { 'Retry-After': '17' },
          ),
        ),
    )
    const e1 = await request('POST', '/api/auth/login', { body: {}, auth: false }).catch((e) => e)
    expect(e1).toBeInstanceOf(ApiError)
    expect([e1.status, e1.code, e1.kind]).toEqual([401, 'invalid_credentials', 'http'])
    const e2 = await request('POST', '/api/auth/login', { body: {}, auth: false }).catch((e) => e)
    expect([e2.status, e2.code, e2.retryAfterS]).toEqual([429, 'rate_limited', 17])
  })

  it('a network failure or a gateway error is "unreachable"', async () => {
    vi.stubGlobal(
      'fetch',
      vi
        .fn()
        .mockRejectedValueOnce(new TypeError('Failed to fetch'))
        .mockResolvedValueOnce(new Response('Bad gateway', { status: 502 })),
    )
    const e1 = await request('GET', '/api/health', { auth: false }).catch((e) => e)
    expect(e1.kind).toBe('unreachable')
    const e2 = await request('GET', '/api/health', { auth: false }).catch((e) => e)
    expect(e2.kind).toBe('unreachable')
  })

  it('a 401 on an authenticated call calls the sign-out handler', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => respond(401, { error: { code: 'unauthorized' } })),
    )
    const onUnauthorized = vi.fn()
    setTokenGetter(() => 'expired')
    setUnauthorizedHandler(onUnauthorized)
    await expect(request('GET', '/api/sessions')).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).toHaveBeenCalledOnce()
  })

  it('204 returns null', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(null, { status: 204 })),
    )
    setTokenGetter(() => 't')
    expect(await request('DELETE', '/api/sessions/3')).toBeNull()
  })
})
