// SPDX-License-Identifier: MIT
// units.js: speed and distance conversions and the km/h-or-mph decision; pure, no state.
import { isNum } from './format.js'

/** m/s → km/h factor (exact). */
export const KMH_PER_MPS = 3.6
/** One international mile per hour in m/s (exact). */
export const MPS_PER_MPH = 0.44704
/** Metres in one international mile (exact). */
export const M_PER_MILE = 1609.344
/** OutGauge flag: the game displays km/h (DESIGN.md §3.1). */
export const OG_KM = 0x4000

export const UNITS = ['kmh', 'mph']
export const SPEED_LABEL = { kmh: 'km/h', mph: 'mph' }
export const DISTANCE_LABEL = { kmh: 'km', mph: 'mi' }

/** m/s in km/h; null stays null. */
export function mpsToKmh(v) {
  return isNum(v) ? v * KMH_PER_MPS : null
}

/** m/s in mph; null stays null. */
export function mpsToMph(v) {
  return isNum(v) ? v / MPS_PER_MPH : null
}

/** m/s in the display unit `unit` ('kmh' or 'mph'). */
export function speedIn(v, unit) {
  return unit === 'mph' ? mpsToMph(v) : mpsToKmh(v)
}

/** Metres in km or miles following `unit`. */
export function distanceIn(m, unit) {
  if (!isNum(m)) return null
  return unit === 'mph' ? m / M_PER_MILE : m / 1000
}

/**
 * Whether a frame says the game shows km/h: the frame's `km` boolean when present, else the
 * OG_KM bit of `flags`; null when the frame says neither (MotionSim-only frames).
 */
export function frameUsesKm(frame) {
  if (!frame) return null
  if (typeof frame.km === 'boolean') return frame.km
  if (Number.isInteger(frame.flags) && frame.gear !== null) return (frame.flags & OG_KM) !== 0
  return null
}

/**
 * The unit to show: the user's explicit choice wins; with 'auto' follow the game (its OG_KM flag
 * as last seen), and km/h when the game has not said.
 */
export function resolveUnit(choice, gameKm) {
  if (choice === 'kmh' || choice === 'mph') return choice
  return gameKm === false ? 'mph' : 'kmh'
}
