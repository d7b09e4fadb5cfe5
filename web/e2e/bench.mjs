// SPDX-License-Identifier: MIT
// bench.mjs: dashboard benchmark (not a test): frames per second and main-thread time per update
// with a 60 Hz OutGauge + MotionSim stream, and the JS heap before/after (it must stay flat).
import { sendPaced } from './lib/stack.mjs'
import { motionsim, outgauge } from './lib/packets.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics')
  return Object.fromEntries(list.map((m) => [m.name, m.value]))
}

/** Streams for `seconds` and measures the last `seconds − warmupS`. Returns the figures. */
export async function runBench({ page, stack, seconds = 20, warmupS = 4, hz = 60 }) {
  await page.waitForSelector('[data-test=live-chart-speed-rpm] canvas')
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Performance.enable')

  const payloads = []
  for (let i = 0; i < seconds * hz; i++) {
    const t = i / hz
    const v = 25 + 15 * Math.sin(t / 3)
    payloads.push(
      outgauge({
        speed: v,
        rpm: 2500 + 3500 * Math.abs(Math.sin(t)),
        gear: 1 + Math.floor(v / 10),
        throttle: Math.max(0, Math.sin(t)),
        brake: Math.max(0, -Math.sin(t)),
      }),
      motionsim({ vel: [0, v, 0], acc: [6 * Math.sin(t * 1.7), 5 * Math.cos(t / 3), 0] }),
    )
  }
  const streaming = sendPaced(stack.udpPort, payloads, hz * 2)
  await sleep(warmupS * 1000)

  await cdp.send('HeapProfiler.collectGarbage')
  const m0 = await metrics(cdp)
  const windowMs = (seconds - warmupS - 1) * 1000
  const fps = await page.evaluate(
    (ms) =>
      new Promise((res) => {
        let n = 0
        const t0 = performance.now()
        const f = () => {
          n++
          if (performance.now() - t0 < ms) requestAnimationFrame(f)
          else res({ frames: n, fps: (n * 1000) / (performance.now() - t0) })
        }
        requestAnimationFrame(f)
      }),
    windowMs,
  )
  const m1 = await metrics(cdp)
  await cdp.send('HeapProfiler.collectGarbage')
  const m2 = await metrics(cdp)
  await streaming

  const spanS = m1.Timestamp - m0.Timestamp
  const task = m1.TaskDuration - m0.TaskDuration
  const updates = spanS * hz
  const state = await page.getAttribute('[data-test=connection]', 'data-state')
  return {
    seconds: +spanS.toFixed(1),
    fps: +fps.fps.toFixed(1),
    main_thread_busy_pct: +((100 * task) / spanS).toFixed(1),
    ms_per_update: +((1000 * task) / updates).toFixed(2),
    ms_per_display_frame: +((1000 * task) / fps.frames).toFixed(2),
    script_ms_per_update: +((1000 * (m1.ScriptDuration - m0.ScriptDuration)) / updates).toFixed(2),
    style_layout_ms_per_update: +(
      (1000 *
        (m1.RecalcStyleDuration - m0.RecalcStyleDuration + m1.LayoutDuration - m0.LayoutDuration)) /
      updates
    ).toFixed(2),
    heap_mb_before: +(m0.JSHeapUsedSize / 2 ** 20).toFixed(2),
    heap_mb_after: +(m2.JSHeapUsedSize / 2 ** 20).toFixed(2),
    state,
  }
}
