// SPDX-License-Identifier: MIT
// lights.js: the OutGauge dashboard-light bits the web shows and how to read them; pure.

/** DL_* bits (DESIGN.md §3.1) shown on the dashboard, in display order. */
export const LIGHTS = [
  { key: 'signal_l', bit: 1 << 5, label: '◀', title: 'Left turn signal', tone: 'green' },
  { key: 'handbrake', bit: 1 << 2, label: 'P', title: 'Handbrake', tone: 'red' },
  { key: 'abs', bit: 1 << 10, label: 'ABS', title: 'ABS active', tone: 'amber' },
  { key: 'tc', bit: 1 << 4, label: 'TC', title: 'Traction control active', tone: 'amber' },
  { key: 'shift', bit: 1 << 0, label: 'SHIFT', title: 'Shift light', tone: 'red' },
  { key: 'signal_r', bit: 1 << 6, label: '▶', title: 'Right turn signal', tone: 'green' },
]

/**
 * State of one light: 'on' when lit, 'off' when the car has it but it is dark, 'na' when the
 * car does not report it (bit missing from dash_lights) or the frame has no light data.
 */
export function lightState(bit, dashLights, showLights) {
  if (!Number.isInteger(dashLights) || !Number.isInteger(showLights)) return 'na'
  if (showLights & bit) return 'on'
  return dashLights & bit ? 'off' : 'na'
}
