// SPDX-License-Identifier: MIT
// format.js: turns values into display strings; owns the "—" rule for null/NaN; reads no state.

/** What every readout shows for a missing, null or non-finite value. */
export const DASH = '—'

/** True for a finite number (null, undefined, NaN and ±Infinity are not). */
export function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v)
}

/** `v` with `digits` decimals, or "—"; never "-0". */
export function fmtNum(v, digits = 0) {
  if (!isNum(v)) return DASH
  const s = v.toFixed(digits)
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s
}

/** A 0..1 fraction as a whole percentage ("—" when missing). */
export function fmtPercent(v01, digits = 0) {
  return isNum(v01) ? fmtNum(v01 * 100, digits) : DASH
}

/** Seconds as h:mm:ss (or m:ss under an hour). */
export function fmtDuration(s) {
  if (!isNum(s) || s < 0) return DASH
  const total = Math.floor(s)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const sec = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}

/** An ISO 8601 time as a short local date and time ("—" when missing or unparsable). */
export function fmtDateTime(iso) {
  if (!iso) return DASH
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return DASH
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
}

/** An ISO 8601 time as local clock time only. */
export function fmtClock(iso) {
  if (!iso) return DASH
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return DASH
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

/** A value with its unit, or "—" alone (a unit after a dash would read as a value). */
export function withUnit(text, unit) {
  return text === DASH ? DASH : `${text} ${unit}`
}
