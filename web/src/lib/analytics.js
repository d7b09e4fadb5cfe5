// SPDX-License-Identifier: MIT
// analytics.js: display strings for a session's §4.2 analytics in the chosen unit; pure.
import { DASH, fmtDateTime, fmtDuration, fmtNum, isNum, withUnit } from './format.js'
import { DISTANCE_LABEL, SPEED_LABEL, distanceIn, speedIn } from './units.js'

const g = (v) => withUnit(fmtNum(v, 2), 'g')

/**
 * Every analytic of `s` ({session} of docs/PROTOCOL.md) as {key, label, text}, in display order;
 * speeds and distance follow `unit`.
 */
export function sessionFields(s, unit) {
  const spd = (v) => withUnit(fmtNum(speedIn(v, unit), 1), SPEED_LABEL[unit])
  return [
    { key: 'start', label: 'Start', text: fmtDateTime(s.start_time) },
    { key: 'end', label: 'End', text: s.open ? 'open (live)' : fmtDateTime(s.end_time) },
    { key: 'duration', label: 'Duration', text: fmtDuration(s.duration_s) },
    { key: 'moving', label: 'Moving time', text: fmtDuration(s.moving_time_s) },
    {
      key: 'distance',
      label: 'Distance',
      text: withUnit(fmtNum(distanceIn(s.distance_m, unit), 2), DISTANCE_LABEL[unit]),
    },
    { key: 'top', label: 'Top speed', text: spd(s.top_speed_mps) },
    { key: 'avg', label: 'Avg speed', text: spd(s.avg_speed_mps) },
    {
      key: 'consistency',
      label: 'Consistency',
      text: isNum(s.consistency) ? `${fmtNum(s.consistency, 0)} / 100` : DASH,
    },
    { key: 'lat', label: 'Max lateral', text: g(s.max_lat_g) },
    { key: 'accel', label: 'Max accel', text: g(s.max_accel_g) },
    { key: 'brake', label: 'Max braking', text: g(s.max_brake_g) },
    { key: 'rpm', label: 'Max RPM', text: fmtNum(s.max_rpm, 0) },
    { key: 'frames', label: 'Frames', text: isNum(s.frame_count) ? String(s.frame_count) : DASH },
    { key: 'car', label: 'Car', text: s.car || DASH },
    { key: 'source', label: 'Source', text: s.source || DASH },
    { key: 'reason', label: 'End reason', text: s.end_reason || (s.open ? 'open' : DASH) },
  ]
}
