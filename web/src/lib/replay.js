// SPDX-License-Identifier: MIT
// replay.js: turns a downsampled session series back into frames for the gauges; pure.
//
// With points = frame_count each bucket is one frame (min = max). When the session is longer
// than 20000 points a bucket spans several frames: we show its extreme (the larger magnitude
// for signed channels, the maximum for the rest) so that replayed peaks match the charts.

/** Index of the last bucket whose time is ≤ t (0 when t is before the first). */
export function indexAt(tArr, t) {
  let lo = 0
  let hi = tArr.length - 1
  if (hi < 0) return -1
  if (t <= tArr[0]) return 0
  if (t >= tArr[hi]) return hi
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (tArr[mid] <= t) lo = mid
    else hi = mid - 1
  }
  return lo
}

function pick(series, key, i, mode) {
  const c = series[key]
  if (!c) return null
  const lo = c.min?.[i]
  const hi = c.max?.[i]
  const l = lo == null || !Number.isFinite(lo) ? null : lo
  const h = hi == null || !Number.isFinite(hi) ? null : hi
  if (l == null) return h
  if (h == null) return l
  if (mode === 'abs') return Math.abs(h) >= Math.abs(l) ? h : l
  return h
}

/** A frame-like object for bucket `i` (fields the series does not carry are null). */
export function frameAt(series, i) {
  const gear = pick(series, 'gear', i, 'max')
  return {
    t: series.t[i],
    speed_mps: pick(series, 'speed_mps', i, 'abs'),
    rpm: pick(series, 'rpm', i, 'max'),
    gear: gear == null ? null : Math.round(gear),
    throttle: pick(series, 'throttle', i, 'max'),
    brake: pick(series, 'brake', i, 'max'),
    clutch: pick(series, 'clutch', i, 'max'),
    g_force_x: pick(series, 'g_force_x', i, 'abs'),
    g_force_y: pick(series, 'g_force_y', i, 'abs'),
  }
}

function empty(series, i) {
  const c = series.speed_mps
  return !c || (c.max?.[i] == null && c.min?.[i] == null)
}

/**
 * Like frameAt(), but an empty bucket (no frame fell in it) shows the nearest earlier bucket
 * with data, up to `maxBack` buckets back: a bucket grid finer than the frame rate leaves
 * single empty buckets that would otherwise flash "—" on the gauges.
 */
export function frameNear(series, i, maxBack = 8) {
  let j = i
  while (j > 0 && i - j < maxBack && empty(series, j)) j--
  return frameAt(series, empty(series, j) ? i : j)
}

/**
 * Marks short runs of empty buckets (shorter than `maxGapS`, data on both sides) as undefined in
 * a copy of `arr`, so uPlot joins the line across them; longer runs stay null and show as gaps.
 */
export function spanShortGaps(arr, t, maxGapS = 1.0) {
  const out = arr.slice()
  let k = 0
  while (k < out.length) {
    if (out[k] != null) {
      k++
      continue
    }
    let e = k
    while (e < out.length && out[e] == null) e++
    if (k > 0 && e < out.length && t[e] - t[k - 1] <= maxGapS) {
      for (let m = k; m < e; m++) out[m] = undefined
    }
    k = e
  }
  return out
}

/** Duration of the series in seconds (time of its last bucket). */
export function seriesDuration(series) {
  const t = series?.t
  return t && t.length ? (t[t.length - 1] ?? 0) : 0
}
