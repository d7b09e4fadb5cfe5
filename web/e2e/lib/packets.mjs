// SPDX-License-Identifier: MIT
// packets.mjs: builds OutGauge and MotionSim datagrams (DESIGN.md §3.1–3.2) and pcap files for
// the end-to-end tests; test-only, never shipped to the browser.
import { writeFileSync } from 'node:fs'

export const OG_KM = 0x4000
export const OG_BAR = 0x8000
export const DL = {
  SHIFT: 1 << 0,
  HANDBRAKE: 1 << 2,
  TC: 1 << 4,
  SIGNAL_L: 1 << 5,
  SIGNAL_R: 1 << 6,
  ABS: 1 << 10,
}

/**
 * A 96-byte OutGauge datagram. `gear` is the game's gear (−1 R, 0 N, 1…); on the wire it is
 * the byte at offset 10 with 0 = R, 1 = N, 2 = 1st.
 */
export function outgauge({
  speed = 0,
  rpm = 900,
  gear = 1,
  flags = OG_KM | OG_BAR,
  turbo = 0,
  engTemp = 90,
  fuel = 0.5,
  oilPressure = 3,
  oilTemp = 95,
  dashLights = DL.SHIFT | DL.HANDBRAKE | DL.TC | DL.SIGNAL_L | DL.SIGNAL_R | DL.ABS,
  showLights = 0,
  throttle = 0,
  brake = 0,
  clutch = 0,
} = {}) {
  const b = Buffer.alloc(96)
  b.writeUInt32LE(0, 0) // time: BeamNG sends 0
  b.write('beam', 4, 'latin1')
  b.writeUInt16LE(flags, 8)
  b.writeUInt8(gear + 1, 10)
  b.writeUInt8(0, 11) // plid
  b.writeFloatLE(speed, 12)
  b.writeFloatLE(rpm, 16)
  b.writeFloatLE(turbo, 20)
  b.writeFloatLE(engTemp, 24)
  b.writeFloatLE(fuel, 28)
  b.writeFloatLE(oilPressure, 32)
  b.writeFloatLE(oilTemp, 36)
  b.writeUInt32LE(dashLights, 40)
  b.writeUInt32LE(showLights, 44)
  b.writeFloatLE(throttle, 48)
  b.writeFloatLE(brake, 52)
  b.writeFloatLE(clutch, 56)
  b.write('', 60, 'latin1') // display1/2 empty
  b.writeInt32LE(0, 92)
  return b
}

/** An 88-byte MotionSim "BNG1" datagram; acc is in m/s² (x lateral, y longitudinal). */
export function motionsim({ pos = [0, 0, 0], vel = [0, 0, 0], acc = [0, 0, 0] } = {}) {
  const b = Buffer.alloc(88)
  b.write('BNG1', 0, 'latin1')
  const vals = [...pos, ...vel, ...acc, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
  vals.forEach((v, i) => b.writeFloatLE(v, 4 + 4 * i))
  return b
}

function ipChecksum(hdr) {
  let s = 0
  for (let i = 0; i < hdr.length; i += 2) s += hdr.readUInt16BE(i)
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16)
  return ~s & 0xffff
}

/**
 * Writes a classic pcap (µs, LINKTYPE_RAW: IPv4 + UDP) of `packets` = [{ts (s), payload}] sent
 * from 127.0.0.1:`srcPort`. `beamtel replay` reads it.
 */
export function writePcap(path, packets, srcPort = 50500, dstPort = 4444) {
  const parts = []
  const gh = Buffer.alloc(24)
  gh.writeUInt32LE(0xa1b2c3d4, 0)
  gh.writeUInt16LE(2, 4)
  gh.writeUInt16LE(4, 6)
  gh.writeInt32LE(0, 8)
  gh.writeUInt32LE(0, 12)
  gh.writeUInt32LE(65535, 16)
  gh.writeUInt32LE(101, 20)
  parts.push(gh)
  packets.forEach(({ ts, payload }, n) => {
    const udp = Buffer.alloc(8)
    udp.writeUInt16BE(srcPort, 0)
    udp.writeUInt16BE(dstPort, 2)
    udp.writeUInt16BE(8 + payload.length, 4)
    const ip = Buffer.alloc(20)
    ip.writeUInt8(0x45, 0)
    ip.writeUInt16BE(20 + 8 + payload.length, 2)
    ip.writeUInt16BE(n & 0xffff, 4)
    ip.writeUInt16BE(0x4000, 6)
    ip.writeUInt8(64, 8)
    ip.writeUInt8(17, 9)
    Buffer.from([127, 0, 0, 1]).copy(ip, 12)
    Buffer.from([127, 0, 0, 1]).copy(ip, 16)
    ip.writeUInt16BE(ipChecksum(ip), 10)
    const frame = Buffer.concat([ip, udp, payload])
    const us = Math.round(ts * 1e6)
    const rh = Buffer.alloc(16)
    rh.writeUInt32LE(Math.floor(us / 1e6), 0)
    rh.writeUInt32LE(us % 1e6, 4)
    rh.writeUInt32LE(frame.length, 8)
    rh.writeUInt32LE(frame.length, 12)
    parts.push(rh, frame)
  })
  writeFileSync(path, Buffer.concat(parts))
  return packets.length
}

/**
 * A synthetic drive: accelerate to `topMps`, hold, brake to a stop, then `idleS` seconds
 * standing (so the session ends by the idle rule). OutGauge at `hz` plus MotionSim at the same
 * rate, interleaved. Returns [{ts, payload}] and the exact top speed as sent (binary32).
 */
export function drive({
  topMps = 27.5,
  hz = 60,
  accelS = 8,
  holdS = 4,
  brakeS = 5,
  idleS = 5,
} = {}) {
  const out = []
  const total = accelS + holdS + brakeS + idleS
  const n = Math.round(total * hz)
  let maxSent = 0
  for (let i = 0; i < n; i++) {
    const t = i / hz
    let v
    let accel
    let throttle = 0
    let brake = 0
    if (t < accelS) {
      v = (topMps * t) / accelS
      accel = topMps / accelS
      throttle = 0.85
    } else if (t < accelS + holdS) {
      v = topMps
      accel = 0
      throttle = 0.35
    } else if (t < accelS + holdS + brakeS) {
      v = topMps * (1 - (t - accelS - holdS) / brakeS)
      accel = -topMps / brakeS
      brake = 0.7
    } else {
      v = 0
      accel = 0
    }
    const lat = v > 1 ? 4 * Math.sin(t * 1.3) : 0
    const gear = v < 0.1 ? 0 : Math.min(6, 1 + Math.floor(v / 6))
    const rpm = v < 0.1 ? 850 : 1500 + ((v % 6) / 6) * 5000
    const f32 = Math.fround(v)
    if (f32 > maxSent) maxSent = f32
    out.push({
      ts: t,
      payload: outgauge({
        speed: v,
        rpm,
        gear,
        throttle,
        brake,
        clutch: 0,
        fuel: 0.62 - t * 0.001,
        showLights: rpm > 6000 ? DL.SHIFT : 0,
      }),
    })
    out.push({
      ts: t + 0.5 / hz,
      payload: motionsim({ vel: [0, v, 0], acc: [lat, accel, 0] }),
    })
  }
  return { packets: out, topMps: maxSent, seconds: total }
}
