// SPDX-License-Identifier: MIT
// telemetry.spec.js: the live buffers stay bounded, keep order, and drop the oldest rows.
import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import {
  CHART_CAPACITY,
  CHART_MAX_HZ,
  STALE_AFTER_S,
  TRAIL_CAPACITY,
  useTelemetryStore,
} from './telemetry.js'

const T0_US = 1_800_000_000_000_000

function frame(i, hz = 60) {
  return {
    type: 'frame',
    ts_us: T0_US + Math.round((i * 1e6) / hz),
    speed_mps: i % 100,
    rpm: 1000 + (i % 5000),
    gear: 3,
    throttle: 0.5,
    brake: 0,
    flags: 0x4000,
    g_force_x: (i % 7) / 10,
    g_force_y: -(i % 3) / 10,
    session: { key: 'abc', duration_s: i / hz, distance_m: i, top_speed_mps: 99 },
  }
}

describe('telemetry store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('holds at most the 60 s window at 75 Hz, 60 s at 60 Hz', () => {
    expect(CHART_CAPACITY).toBe(60 * CHART_MAX_HZ)
    expect(CHART_CAPACITY).toBeGreaterThanOrEqual(60 * 60)
  })

  it('100k frames: length stays at capacity, memory constant, oldest dropped, order kept', () => {
    const t = useTelemetryStore()
    const arrays = t.series.channels.map((c) => t.series.cols[c])
    const bytes = t.series.byteLength
    const N = 100_000
    for (let i = 0; i < N; i++) t.pushFrame(frame(i))

    expect(t.series.length).toBe(CHART_CAPACITY)
    expect(t.series.byteLength).toBe(bytes)
    t.series.channels.forEach((c, k) => expect(t.series.cols[c]).toBe(arrays[k])) // no realloc
    expect(t.trail.length).toBe(TRAIL_CAPACITY)

    // at 60 Hz every frame is kept, so the buffer holds exactly the last CHART_CAPACITY frames
    const first = N - CHART_CAPACITY
    expect(t.series.at('t', 0)).toBeCloseTo(frame(first).ts_us / 1e6, 6)
    expect(t.series.last('t')).toBeCloseTo(frame(N - 1).ts_us / 1e6, 6)
    expect(t.series.at('speed', 0)).toBe(first % 100)
    for (let k = 1; k < t.series.length; k++) {
      expect(t.series.at('t', k)).toBeGreaterThan(t.series.at('t', k - 1))
    }
    // the trail holds the newest points, oldest first
    expect(t.trail.last('x')).toBeCloseTo(((N - 1) % 7) / 10)
    expect(t.trail.at('x', 0)).toBeCloseTo(((N - TRAIL_CAPACITY) % 7) / 10)
  })

  it('thins a faster stream to the chart rate', () => {
    const t = useTelemetryStore()
    for (let i = 0; i < 2000; i++) t.pushFrame(frame(i, 200)) // 10 s at 200 Hz
    const kept = t.series.length
    expect(kept).toBeLessThanOrEqual(10 * CHART_MAX_HZ + 1)
    expect(kept).toBeGreaterThan(10 * 60)
  })

  it('publishes only the newest frame per commit, with its session, and goes live', () => {
    const t = useTelemetryStore()
    t.pushFrame(frame(1))
    t.pushFrame(frame(2))
    expect(t.latest).toBeNull() // nothing reactive until the display frame
    t.commit()
    expect(t.latest.ts_us).toBe(frame(2).ts_us)
    expect(t.session.top_speed_mps).toBe(99)
    expect(t.connection).toBe('live')
    expect(t.stats.commits).toBe(1)
  })

  it('reads "no data for N s" when frames stop', () => {
    const t = useTelemetryStore()
    t.onHello({ type: 'hello' })
    t.pushFrame(frame(1))
    t.commit()
    const last = t.stats.lastFrameMs
    t.tick(last + 1000)
    expect(t.connection).toBe('live')
    t.tick(last + STALE_AFTER_S * 1000 + 10)
    expect(t.connection).toBe('nodata')
    t.tick(last + 7000)
    expect(t.noDataS).toBe(7)
    t.pushFrame(frame(2))
    t.commit()
    expect(t.connection).toBe('live')
  })

  it('learns the rpm scale and the redline from the shift light', () => {
    const t = useTelemetryStore()
    t.pushFrame({ ...frame(1), rpm: 6500, show_lights: 1 })
    t.pushFrame({ ...frame(2), rpm: 7400, show_lights: 0 })
    t.commit()
    expect(t.rpmScale.max).toBe(8000)
    expect(t.rpmScale.redline).toBe(6500)
  })

  it('reset empties the buffers', () => {
    const t = useTelemetryStore()
    for (let i = 0; i < 10; i++) t.pushFrame(frame(i))
    t.commit()
    t.reset()
    expect(t.series.length).toBe(0)
    expect(t.trail.length).toBe(0)
    expect(t.latest).toBeNull()
  })
})
