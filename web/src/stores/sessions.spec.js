// SPDX-License-Identifier: MIT
// sessions.spec.js: paging with the `before` cursor holds one page; delete reloads the page.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

vi.mock('@/api/index.js', () => ({
  listSessions: vi.fn(),
  getSession: vi.fn(),
  deleteSession: vi.fn(),
}))

import * as api from '@/api/index.js'
import { PAGE_SIZE, useSessionsStore } from './sessions.js'

// 45 sessions, ids 45..1 newest first, served like the API does
const ALL = Array.from({ length: 45 }, (_, i) => ({ id: 45 - i }))
function serve({ limit, before }) {
  const rows = ALL.filter((s) => before == null || s.id < before).slice(0, limit)
  const more = rows.length === limit && ALL.some((s) => s.id < rows[rows.length - 1].id)
  return { sessions: rows, next_before: more ? rows[rows.length - 1].id : null }
}

describe('sessions store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    api.listSessions.mockReset().mockImplementation(async (q) => serve(q))
  })

  it('pages older and newer with the cursor, one page held', async () => {
    const s = useSessionsStore()
    await s.first()
    expect(s.items.map((x) => x.id)).toEqual(ALL.slice(0, PAGE_SIZE).map((x) => x.id))
    expect(s.hasNewer).toBe(false)
    expect(s.hasOlder).toBe(true)
    await s.older()
    expect(s.items[0].id).toBe(25)
    await s.older()
    expect(s.items.map((x) => x.id)).toEqual([5, 4, 3, 2, 1])
    expect(s.hasOlder).toBe(false)
    await s.newer()
    expect(s.items[0].id).toBe(25)
    expect(s.items.length).toBe(PAGE_SIZE)
  })

  it('keeps the error for the view', async () => {
    api.listSessions.mockRejectedValueOnce(new Error('boom'))
    const s = useSessionsStore()
    await s.first()
    expect(s.error.message).toBe('boom')
    expect(s.loading).toBe(false)
  })

  it('delete removes the row and reloads the page', async () => {
    api.deleteSession.mockResolvedValue(null)
    const s = useSessionsStore()
    await s.first()
    const calls = api.listSessions.mock.calls.length
    await s.remove(44)
    expect(api.deleteSession).toHaveBeenCalledWith(44)
    expect(api.listSessions.mock.calls.length).toBe(calls + 1)
  })
})
