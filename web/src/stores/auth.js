// SPDX-License-Identifier: MIT
// auth.js: the signed-in user: token and expiry persisted in localStorage, cleared at expiry.
//
// The token is kept until it expires (12 h on the server) so a reload does not sign the user
// out; a timer clears it at `expires_at`, and any 401 or a 4401 WebSocket close clears it early.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import * as api from '@/api/index.js'

export const STORAGE_KEY = 'beamtel.auth'
// setTimeout() overflows past 2^31−1 ms (~24.8 days); re-arm in steps beyond that.
const MAX_TIMER_MS = 2 ** 31 - 1

function readStored() {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY)
    if (!raw) return null
    const v = JSON.parse(raw)
    if (typeof v?.token !== 'string' || typeof v?.expiresAt !== 'number') return null
    return v
  } catch {
    return null
  }
}

export const useAuthStore = defineStore('auth', () => {
  const token = ref(null)
  const expiresAt = ref(0) // ms since the epoch
  const user = shallowRef(null)
  const notice = ref('') // why the user was sent to the login page, shown there once
  let timer = null

  const isAuthenticated = computed(() => !!token.value)
  const username = computed(() => user.value?.username ?? '')

  function persist() {
    try {
      if (token.value) {
        globalThis.localStorage?.setItem(
          STORAGE_KEY,
          JSON.stringify({ token: token.value, expiresAt: expiresAt.value, user: user.value }),
        )
      } else {
        globalThis.localStorage?.removeItem(STORAGE_KEY)
      }
    } catch {
      // storage full or disabled: the session lasts until reload
    }
  }

  function arm() {
    clearTimeout(timer)
    timer = null
    if (!token.value) return
    const left = expiresAt.value - Date.now()
    if (left <= 0) {
      logout('Your session expired. Please sign in again.')
      return
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS))
  }

  /** Adopts a token (from login or storage); an expired one is cleared at once. */
  function setSession(newToken, expiresAtIso, newUser) {
    const at = typeof expiresAtIso === 'number' ? expiresAtIso : Date.parse(expiresAtIso)
    token.value = newToken
    expiresAt.value = Number.isFinite(at) ? at : 0
    user.value = newUser ?? null
    notice.value = ''
    persist()
    arm()
  }

  /** Restores the persisted session, dropping it when it has expired. */
  function restore() {
    const v = readStored()
    if (!v || v.expiresAt <= Date.now()) {
      if (v) globalThis.localStorage?.removeItem(STORAGE_KEY)
      return false
    }
    token.value = v.token
    expiresAt.value = v.expiresAt
    user.value = v.user ?? null
    arm()
    return true
  }

  /** Signs in; throws ApiError (401 invalid_credentials, 429 rate_limited, unreachable). */
  async function login(name, password) {
    const res = await api.login(name, password)
    setSession(res.token, res.expires_at, res.user)
    return res.user
  }

  /** Refreshes the user (and the Fumbletron badge) from /api/me. */
  async function fetchMe() {
    const u = await api.me()
    user.value = u
    persist()
    return u
  }

  /**
   * Updates the user from the WebSocket hello. Fields the message lacks keep their value (a
   * hello may carry only the username), and another user's object is ignored.
   */
  function setUser(u) {
    if (!u || typeof u !== 'object') return
    if (user.value?.username && u.username && u.username !== user.value.username) return
    user.value = { ...user.value, ...u }
    persist()
  }

  /** Forgets the token; `message` (optional) is shown on the login page. */
  function logout(message = '') {
    clearTimeout(timer)
    timer = null
    token.value = null
    expiresAt.value = 0
    user.value = null
    notice.value = message
    persist()
  }

  /** Another tab signed in or out: follow it. */
  function onStorage(e) {
    if (e.key !== STORAGE_KEY) return
    const v = readStored()
    if (v && v.expiresAt > Date.now()) {
      token.value = v.token
      expiresAt.value = v.expiresAt
      user.value = v.user ?? null
      arm()
    } else if (token.value) {
      logout('You signed out in another tab.')
    }
  }

  return {
    token,
    expiresAt,
    user,
    notice,
    isAuthenticated,
    username,
    setSession,
    restore,
    login,
    fetchMe,
    setUser,
    logout,
    onStorage,
  }
})
