// SPDX-License-Identifier: MIT
// gauges.js: pure helpers shared by the live and replay gauges (rpm scale, gear label); no state.
import { DASH, isNum } from './format.js'

/**
 * The rpm bar's full scale and redline. OutGauge carries neither, so they are learnt: the scale
 * is the highest rpm seen plus a margin, rounded up to 1000 (never under 6000); the redline is
 * the lowest rpm at which the game lit the shift light, else 88 % of the scale.
 */
export function rpmScaleFor(maxRpmSeen, shiftRpm) {
  const seen = isNum(maxRpmSeen) && maxRpmSeen > 0 ? maxRpmSeen : 0
  const max = Math.max(6000, Math.ceil((seen * 1.08) / 1000) * 1000)
  const redline =
    isNum(shiftRpm) && shiftRpm > 0 && shiftRpm < max
      ? Math.floor(shiftRpm / 100) * 100
      : Math.round((max * 0.88) / 100) * 100
  return { max, redline }
}

/** "R", "N", "1", "2"… for gear −1, 0, 1, 2…; "—" when the frame has no gear (MotionSim only). */
export function gearLabel(gear) {
  if (!isNum(gear)) return DASH
  if (gear < 0) return 'R'
  if (gear === 0) return 'N'
  return String(Math.round(gear))
}
