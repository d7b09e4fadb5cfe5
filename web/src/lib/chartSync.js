// SPDX-License-Identifier: MIT
// chartSync.js: keeps the x range (zoom) of a group of uPlot charts in step, and the replay marker.

/** A group of charts that zoom together; `marker.t` (s) is drawn as a vertical line on each. */
export function createChartGroup(key) {
  const charts = new Set()
  let syncing = false
  return {
    key,
    marker: { t: null },
    add(u) {
      charts.add(u)
    },
    remove(u) {
      charts.delete(u)
    },
    /** Called from a chart's setScale hook: applies its x range to the others. */
    propagate(u) {
      if (syncing) return
      syncing = true
      try {
        const { min, max } = u.scales.x
        for (const other of charts) {
          if (other === u) continue
          if (other.scales.x.min !== min || other.scales.x.max !== max) {
            other.setScale('x', { min, max })
          }
        }
      } finally {
        syncing = false
      }
    },
    /** Moves the replay marker and redraws (cached paths only: cheap at display rate). */
    setMarker(t) {
      this.marker.t = t
      for (const u of charts) u.redraw(false, false)
    },
  }
}
