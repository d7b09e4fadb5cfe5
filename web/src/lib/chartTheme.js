// SPDX-License-Identifier: MIT
// chartTheme.js: uPlot axis/grid styling for the dark theme, shared by live and detail charts.

export const COLORS = {
  speed: '#22d3ee',
  rpm: '#f59e0b',
  throttle: '#22c55e',
  brake: '#ef4444',
  clutch: '#60a5fa',
  gx: '#e879f9',
  gy: '#a3e635',
  gear: '#cbd5e1',
}

/** A dark-theme axis; `extra` overrides (scale, side, values…). */
export function axis(extra = {}) {
  return {
    stroke: '#94a3b8',
    font: '11px system-ui, sans-serif',
    labelFont: '11px system-ui, sans-serif',
    grid: { stroke: 'rgba(148, 163, 184, 0.12)', width: 1 },
    ticks: { stroke: 'rgba(148, 163, 184, 0.25)', width: 1, size: 4 },
    ...extra,
  }
}

/** Rounds a maximum up to a tidy axis limit (never below `floor`). */
export function niceCeil(max, step, floor) {
  if (!Number.isFinite(max) || max <= floor) return floor
  return Math.ceil(max / step) * step
}

/** `color` with alpha `a` (0..1) for band fills. */
export function alpha(color, a) {
  const n = parseInt(color.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`
}
