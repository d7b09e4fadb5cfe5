// SPDX-License-Identifier: MIT
// telemetry.js: live telemetry state: bounded ring buffers, the latest frame, connection state.
//
// Frames arrive up to ~60 Hz (more with a fast OutGauge rate). pushFrame() runs once per
// WebSocket message and touches no reactive state: it writes into fixed-size typed arrays and
// remembers the frame. Once per display frame (requestAnimationFrame) commit() publishes the
// newest frame to the reactive `latest`, so Vue re-renders the small gauge components at most
// at display rate, and the charts read the ring buffers directly without Vue at all. Nothing
// here grows with run time: 2 hours at 60 Hz uses the same memory as 2 minutes.
import { defineStore } from 'pinia'
import { markRaw, ref, shallowRef } from 'vue'
import { RingSeries } from '@/lib/ring.js'
import { isNum } from '@/lib/format.js'
import { frameUsesKm } from '@/lib/units.js'
import { rpmScaleFor } from '@/lib/gauges.js'
import { usePrefsStore } from './prefs.js'

/** Seconds of history the live charts show. */
export const CHART_WINDOW_S = 60
/** Highest sample rate kept for the charts; faster streams are thinned to it. */
export const CHART_MAX_HZ = 75
/** Rows of the chart ring buffer: the 60 s window at the highest kept rate. */
export const CHART_CAPACITY = CHART_WINDOW_S * CHART_MAX_HZ
/** Points of the friction-circle trail (~0.75 s at 60 Hz). */
export const TRAIL_CAPACITY = 45
/** Seconds without a frame after which the state reads "no data for N s". */
export const STALE_AFTER_S = 2

// Half a millisecond of slack so a 75 Hz stream with jitter is not thinned by accident.
const MIN_CHART_DT_S = 1 / CHART_MAX_HZ - 0.0005

const raf =
  typeof globalThis.requestAnimationFrame === 'function'
    ? (cb) => globalThis.requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16)

export const useTelemetryStore = defineStore('telemetry', () => {
  const prefs = usePrefsStore()

  /** 'idle' | 'connecting' | 'nodata' | 'live' | 'reconnecting' | 'auth-expired' */
  const connection = ref('idle')
  const retryAt = ref(0) // ms epoch of the next reconnect attempt ('reconnecting')
  const noDataS = ref(0) // whole seconds since the last frame (or since hello)
  const latest = shallowRef(null) // newest frame, published at display rate
  const session = shallowRef(null) // latest.session: the live session summary or null
  const status = shallowRef(null) // last {type:"status"} message (1 Hz)
  const hello = shallowRef(null)
  const lastEvent = shallowRef(null) // last {type:"session"} message
  const rpmScale = shallowRef(rpmScaleFor(0, null))

  // Non-reactive: written per message, read by rAF loops.
  const series = markRaw(new RingSeries(CHART_CAPACITY, ['t', 'speed', 'rpm', 'throttle', 'brake']))
  const trail = markRaw(new RingSeries(TRAIL_CAPACITY, ['x', 'y']))
  const stats = markRaw({ frames: 0, commits: 0, lastFrameMs: 0, sinceMs: 0, clockOffsetS: 0 })
  let pending = null
  let scheduled = false
  let maxRpmSeen = 0
  let shiftRpm = null

  /** Takes one frame message; cheap, allocation-free apart from the frame itself. */
  function pushFrame(f) {
    const nowMs = Date.now()
    stats.frames++
    stats.lastFrameMs = nowMs
    const t = isNum(f.ts_us) ? f.ts_us / 1e6 : nowMs / 1000
    stats.clockOffsetS = nowMs / 1000 - t

    const lastT = series.length ? series.last('t') : -Infinity
    if (t < lastT - 1) series.clear() // the server's clock jumped back: start a new window
    if (!series.length || t - lastT >= MIN_CHART_DT_S) {
      const i = series.next()
      series.cols.t[i] = t
      series.cols.speed[i] = isNum(f.speed_mps) ? Math.abs(f.speed_mps) : NaN
      series.cols.rpm[i] = isNum(f.rpm) ? f.rpm : NaN
      series.cols.throttle[i] = isNum(f.throttle) ? f.throttle : NaN
      series.cols.brake[i] = isNum(f.brake) ? f.brake : NaN
    }
    if (isNum(f.g_force_x) && isNum(f.g_force_y)) {
      const j = trail.next()
      trail.cols.x[j] = f.g_force_x
      trail.cols.y[j] = f.g_force_y
    }
    if (isNum(f.rpm) && f.rpm > maxRpmSeen) maxRpmSeen = f.rpm
    if (Number.isInteger(f.show_lights) && f.show_lights & 1 && isNum(f.rpm) && f.rpm > 1000) {
      if (shiftRpm === null || f.rpm < shiftRpm) shiftRpm = f.rpm
    }
    pending = f
    if (!scheduled) {
      scheduled = true
      raf(commit)
    }
  }

  /** Publishes the newest pending frame to the reactive state (once per display frame). */
  function commit() {
    scheduled = false
    const f = pending
    if (!f) return
    pending = null
    stats.commits++
    latest.value = f
    session.value = f.session ?? null
    noDataS.value = 0
    if (connection.value !== 'live') connection.value = 'live'
    prefs.noteGameKm(frameUsesKm(f))
    const scale = rpmScaleFor(maxRpmSeen, shiftRpm)
    if (scale.max !== rpmScale.value.max || scale.redline !== rpmScale.value.redline) {
      rpmScale.value = scale
    }
  }

  /** Once a second: turns "live" into "no data for N s" when frames stop. */
  function tick(nowMs = Date.now()) {
    if (connection.value !== 'live' && connection.value !== 'nodata') return
    const since = Math.max(stats.lastFrameMs, stats.sinceMs)
    const s = Math.floor((nowMs - since) / 1000)
    if (s >= STALE_AFTER_S || connection.value === 'nodata') {
      noDataS.value = s
      connection.value = 'nodata'
    }
  }

  /** The server accepted our token. */
  function onHello(msg) {
    hello.value = msg
    stats.sinceMs = Date.now()
    noDataS.value = 0
    connection.value = stats.lastFrameMs > 0 ? 'live' : 'nodata'
  }

  function onStatus(msg) {
    status.value = msg
  }

  function onSessionEvent(msg) {
    lastEvent.value = msg
  }

  /** 'connecting', 'reconnecting' (with the ms epoch of the retry), 'idle' or 'auth-expired'. */
  function setConnection(state, at = 0) {
    connection.value = state
    retryAt.value = at
  }

  /** The ws-clock "now" in the frames' time base (seconds), for sliding chart windows. */
  function frameClockNow() {
    return Date.now() / 1000 - stats.clockOffsetS
  }

  /** Forgets everything (sign-out). */
  function reset() {
    series.clear()
    trail.clear()
    pending = null
    latest.value = null
    session.value = null
    status.value = null
    hello.value = null
    lastEvent.value = null
    maxRpmSeen = 0
    shiftRpm = null
    rpmScale.value = rpmScaleFor(0, null)
    stats.frames = 0
    stats.commits = 0
    stats.lastFrameMs = 0
    stats.sinceMs = 0
    noDataS.value = 0
  }

  return {
    connection,
    retryAt,
    noDataS,
    latest,
    session,
    status,
    hello,
    lastEvent,
    rpmScale,
    series,
    trail,
    stats,
    pushFrame,
    commit,
    tick,
    onHello,
    onStatus,
    onSessionEvent,
    setConnection,
    frameClockNow,
    reset,
  }
})
