// SPDX-License-Identifier: MIT
// sessions.js: recorded sessions: one page of the list at a time, one detail, delete.
//
// The list is paged with the API's `before` cursor; only the current page is held, plus the
// cursors of the pages before it, so browsing a long history never grows an array of rows.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import * as api from '@/api/index.js'

export const PAGE_SIZE = 20

export const useSessionsStore = defineStore('sessions', () => {
  const items = shallowRef([])
  const nextBefore = ref(null) // cursor of the page after this one, null on the last page
  const cursors = ref([null]) // cursors[i] = `before` of page i (page 0: newest, null)
  const page = ref(0)
  const loading = ref(false)
  const error = ref(null)
  const detail = shallowRef(null)
  const detailError = ref(null)

  const hasOlder = computed(() => nextBefore.value != null)
  const hasNewer = computed(() => page.value > 0)

  async function loadPage(index) {
    loading.value = true
    error.value = null
    try {
      const res = await api.listSessions({ limit: PAGE_SIZE, before: cursors.value[index] })
      items.value = res.sessions ?? []
      nextBefore.value = res.next_before ?? null
      page.value = index
      cursors.value = cursors.value.slice(0, index + 1)
      if (nextBefore.value != null) cursors.value.push(nextBefore.value)
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  /** Loads the newest page. */
  function first() {
    cursors.value = [null]
    return loadPage(0)
  }

  /** Loads the next (older) page when there is one. */
  function older() {
    return hasOlder.value ? loadPage(page.value + 1) : Promise.resolve()
  }

  /** Loads the previous (newer) page. */
  function newer() {
    return hasNewer.value ? loadPage(page.value - 1) : Promise.resolve()
  }

  /** Reloads the current page (after a delete or a session event). */
  function refresh() {
    return loadPage(page.value)
  }

  /** Loads one session with its events into `detail`. */
  async function loadDetail(id) {
    detailError.value = null
    if (detail.value && String(detail.value.id) !== String(id)) detail.value = null
    try {
      detail.value = await api.getSession(id)
    } catch (e) {
      detailError.value = e
      detail.value = null
    }
    return detail.value
  }

  /** Deletes a session, then reloads the current page (stepping back if it became empty). */
  async function remove(id) {
    await api.deleteSession(id)
    if (detail.value && String(detail.value.id) === String(id)) detail.value = null
    items.value = items.value.filter((s) => String(s.id) !== String(id))
    if (!items.value.length && page.value > 0) await loadPage(page.value - 1)
    else await refresh()
  }

  return {
    items,
    nextBefore,
    page,
    loading,
    error,
    detail,
    detailError,
    hasOlder,
    hasNewer,
    first,
    older,
    newer,
    refresh,
    loadDetail,
    remove,
  }
})
