// SPDX-License-Identifier: MIT
// run.mjs: end-to-end tests of the web app in headless Chromium against the real `beamtel serve`,
// a private PostgreSQL and real UDP telemetry; then a 60 Hz dashboard benchmark.
//
// Usage: npm run e2e  (builds web/dist first). Options: --no-bench, --bench-only, --keep.
// Screenshots go to e2e/out/. Exits non-zero when a test fails. Needs scripts/pg-private, the
// beamtel binary ($BEAMTEL_BIN or a build folder) and /usr/bin/chromium ($BEAMTEL_CHROMIUM).
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { WEB_DIR, createSender, startStack } from './lib/stack.mjs'
import { launch } from './lib/browser.mjs'
import { drive, outgauge, writePcap } from './lib/packets.mjs'
import { runBench } from './bench.mjs'

const argv = new Set(process.argv.slice(2))
const OUT = join(WEB_DIR, 'e2e', 'out')
mkdirSync(OUT, { recursive: true })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const IDLE_TIMEOUT_S = 3

function assert(cond, msg) {
  if (!cond) throw new Error(msg)
}

/** Waits until `fn()` returns a truthy value (polling), or fails with `what`. */
async function until(fn, what, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e.message
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`)
    await sleep(100)
  }
}

const results = []
let page

async function test(name, fn) {
  const t0 = Date.now()
  try {
    await fn()
    results.push({ name, ok: true })
    console.log(`ok   ${name} (${Date.now() - t0} ms)`)
  } catch (e) {
    results.push({ name, ok: false })
    console.log(
      `FAIL ${name}\n     ${String(e.stack || e)
        .split('\n')
        .slice(0, 4)
        .join('\n     ')}`,
    )
    const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()
    await page?.screenshot({ path: join(OUT, `fail-${slug}.png`), fullPage: true }).catch(() => {})
  }
}

const text = (sel) => page.locator(sel).first().innerText({ timeout: 2000 })
const shot = (name, fullPage = true) => page.screenshot({ path: join(OUT, name), fullPage })

/** Fraction of an element's canvas pixels that are not background (0..1): "did it draw?". */
function inkOf(selector) {
  return page.evaluate((sel) => {
    const host = document.querySelector(sel)
    const c = host?.querySelector('canvas')
    if (!c || !c.width || !c.height) return 0
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
    let ink = 0
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++
    return ink / (c.width * c.height)
  }, selector)
}

async function login(stack, password) {
  await page.goto(`${stack.url}/login`)
  await page.fill('[data-test=login-username]', 'local')
  await page.fill('[data-test=login-password]', password)
  await page.click('[data-test=login-submit]')
}

async function main() {
  const stack = await startStack({ idleTimeoutS: IDLE_TIMEOUT_S })
  console.log(`serve ${stack.url} (udp ${stack.udpPort}), data in ${stack.dir}`)
  const browser = await launch()
  page = browser.page
  const consoleErrors = []
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
    if (m.text().startsWith('beamtel:')) console.log(`     [page] ${m.text()}`)
  })
  page.on('pageerror', (e) => consoleErrors.push(String(e)))
  const requestUrls = []
  page.on('request', (r) => requestUrls.push(r.url()))

  try {
    if (!argv.has('--bench-only')) await suite(stack)
    if (!argv.has('--no-bench')) {
      await test('benchmark: 60 Hz stream on the dashboard', async () => {
        if (argv.has('--bench-only')) {
          await login(stack, stack.password)
          await page.waitForURL(`${stack.url}/`)
        }
        const r = await runBench({ page, stack })
        console.log(`     ${JSON.stringify(r)}`)
      })
    }
    if (!argv.has('--bench-only')) await tail(stack)
    const token = await page.evaluate(() => {
      try {
        return JSON.parse(localStorage.getItem('beamtel.auth'))?.token ?? null
      } catch {
        return null
      }
    })
    await test('no token ever in a URL; no console errors', async () => {
      const seenTokens = stack.tokensSeen ?? []
      for (const t of [token, ...seenTokens].filter(Boolean)) {
        const leak = requestUrls.find((u) => u.includes(t))
        assert(!leak, `token in URL ${leak}`)
      }
      const errs = consoleErrors.filter(
        (e) => !/401|429|Failed to load resource|WebSocket connection/.test(e),
      )
      assert(errs.length === 0, `console errors: ${errs.join(' | ')}`)
    })
  } finally {
    await browser.close()
    await stack.stop({ keep: argv.has('--keep') })
  }
}

async function suite(stack) {
  await test('login page: wrong password shows the error', async () => {
    await page.goto(`${stack.url}/`)
    await page.waitForURL(/\/login/)
    await page.waitForSelector('[data-test=login-form]')
    await shot('login.png')
    await page.fill('[data-test=login-username]', 'local')
    await page.fill('[data-test=login-password]', 'definitely-wrong')
    await page.click('[data-test=login-submit]')
    await page.waitForSelector('[data-test=login-error]')
    assert((await text('[data-test=login-error]')) === 'Wrong username or password.', 'error text')
    await shot('login-error.png')
  })

  await test('log in: header shows the user and the Fumbletron badge', async () => {
    await page.fill('[data-test=login-password]', stack.password)
    await page.click('[data-test=login-submit]')
    await page.waitForURL(`${stack.url}/`)
    await until(async () => (await text('[data-test=username]')).includes('local'), 'username')
    const badge = await until(() => text('[data-test=fumbletron]'), 'badge')
    assert(/Fumbletron-3156: (VALID|INVALID)/.test(badge), `badge ${badge}`)
    await until(
      async () => (await page.getAttribute('[data-test=connection]', 'data-state')) === 'nodata',
      'socket authenticated (waiting for telemetry)',
    )
  })

  await test('live: the speed readout follows packets; 20.0 m/s shows 72 km/h', async () => {
    const game = createSender(stack.udpPort) // one source port, like the game
    await game.send(Array(30).fill(outgauge({ speed: 10, rpm: 2000, gear: 1 })), 60)
    await until(async () => (await text('[data-test=speed]')) === '36', 'speed 36 (10 m/s)')
    const known = outgauge({ speed: 20.0, rpm: 3000, gear: 2, throttle: 0.5, showLights: 1 << 2 })
    await game.send(Array(60).fill(known), 60)
    await until(async () => (await text('[data-test=speed]')) === '72', 'speed 72')
    assert((await text('[data-test=speed-unit]')) === 'km/h', 'unit km/h (OG_KM set)')
    assert((await text('[data-test=gear]')) === '2', 'gear 2')
    assert((await text('[data-test=rpm]')) === '3000', 'rpm 3000')
    assert((await text('[data-test=throttle]')) === '50', 'throttle 50 %')
    assert(
      (await page.getAttribute('[data-test=light-handbrake]', 'data-state')) === 'on',
      'handbrake light on',
    )
    assert(
      (await page.getAttribute('[data-test=connection]', 'data-state')) === 'live',
      'state live',
    )
    await until(async () => (await text('[data-test=session-top]')).startsWith('72'), 'top 72')
    await page.click('[data-test=unit-mph]')
    await until(async () => (await text('[data-test=speed]')) === '45', 'speed 45 mph')
    await page.click('[data-test=unit-auto]')
    await until(async () => (await text('[data-test=speed]')) === '72', 'back to km/h')
    // stand still until the idle rule ends this short session
    const stand = outgauge({ speed: 0, rpm: 800, gear: 0 })
    await game.send(Array(60 * (IDLE_TIMEOUT_S + 1)).fill(stand), 60)
    game.close()
    await until(async () => (await text('[data-test=gear]')) === 'N', 'gear N')
    await until(
      async () => (await text('[data-test=connection]')).includes('No data for'),
      '"no data for N s" after the packets stop',
      6000,
    )
  })

  const top = drive({ topMps: 27.5 })
  await test('a replayed drive appears in history with the right top speed', async () => {
    const pcap = join(stack.dir, 'drive.pcap')
    writePcap(pcap, top.packets)
    const rep = spawn(
      stack.bin,
      ['replay', pcap, '--to', `127.0.0.1:${stack.udpPort}`, '--progress', 'never'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    let err = ''
    rep.stderr.on('data', (d) => (err += d))
    const done = new Promise((res) => rep.on('exit', res))
    await sleep(11000) // mid-drive: the charts hold ~10 s of data
    await shot('dashboard.png')
    const code = await done
    assert(code === 0, `beamtel replay exited ${code}: ${err}`)
    await page.click('[data-test=nav-sessions]')
    const want = `${(top.topMps * 3.6).toFixed(1)} km/h`
    await until(
      async () => (await text('[data-test=session-row] [data-test=cell-top]')) === want,
      `newest session top speed ${want}`,
      15000,
    )
    assert((await page.locator('[data-test=session-row]').count()) === 2, 'two sessions')
    await shot('sessions.png')
  })

  await test('session detail draws its charts', async () => {
    await page.click('[data-test=session-row] [data-test=session-link]')
    await page.waitForSelector('[data-test=chart-speed] canvas')
    await page.waitForSelector('[data-test=chart-g] canvas')
    assert(
      (await text('[data-test=field-top]')) === `${(top.topMps * 3.6).toFixed(1)} km/h`,
      'analytics top speed',
    )
    for (const c of ['chart-speed', 'chart-rpm', 'chart-pedals', 'chart-g']) {
      const ink = await inkOf(`[data-test=${c}]`)
      assert(ink > 0.01, `${c} drew nothing (${ink})`)
    }
    await shot('session-detail.png')
  })

  await test('zoom: drag selects a range, double-click resets', async () => {
    const over = page.locator('[data-test=chart-speed] .u-over')
    const box = await over.boundingBox()
    const before = await page.evaluate(() =>
      document.querySelector('[data-test=chart-rpm] canvas').toDataURL(),
    )
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await sleep(200)
    const zoomed = await page.evaluate(() =>
      document.querySelector('[data-test=chart-rpm] canvas').toDataURL(),
    )
    assert(zoomed !== before, 'the synced rpm chart changed after zooming the speed chart')
    await over.dblclick()
    await sleep(200)
    const reset = await page.evaluate(() =>
      document.querySelector('[data-test=chart-rpm] canvas').toDataURL(),
    )
    assert(reset === before, 'double-click restored the full range')
  })

  await test('replay moves the gauges', async () => {
    await page.click('[data-test=replay-speed-2]')
    await page.click('[data-test=replay-play]')
    const gauges = '[data-test=replay] [data-test=speed]'
    await page.waitForSelector(gauges)
    const seen = new Set()
    const end = Date.now() + 4000
    while (Date.now() < end) {
      seen.add(await page.locator(gauges).innerText())
      await sleep(150)
    }
    assert(seen.size >= 5, `speed took only ${[...seen].join(',')}`)
    const t = await text('[data-test=replay-time]')
    assert(!t.startsWith('0:00 '), `replay clock ${t}`)
    await page.click('[data-test=replay-pause]')
    const paused = await text('[data-test=replay-time]')
    await sleep(500)
    assert((await text('[data-test=replay-time]')) === paused, 'pause stops the clock')
    await page.click('[data-test=replay-speed-4]')
    await shot('session-replay.png')
  })

  await test('CSV export downloads through fetch + Blob with the header token', async () => {
    const [dl] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-test=export-csv]'),
    ])
    const path = await dl.path()
    const csv = readFileSync(path, 'utf8').trim().split('\n')
    assert(csv[0].startsWith('seq,ts'), `csv header ${csv[0]}`)
    const frames = Number(await text('[data-test=field-frames]'))
    assert(csv.length === frames + 1, `csv rows ${csv.length - 1} ≠ frames ${frames}`)
    assert(dl.url().startsWith('blob:'), `download from ${dl.url()}`)
  })

  await test('delete a session with confirmation', async () => {
    await page.click('[data-test=nav-sessions]')
    await page.waitForSelector('[data-test=session-row]')
    const rows = page.locator('[data-test=session-row]')
    const n = await rows.count()
    const id = await rows.nth(n - 1).getAttribute('data-id')
    await page.click(`[data-test=delete-${id}]`)
    await page.waitForSelector('[data-test=confirm-dialog][open]')
    await shot('delete-confirm.png', false)
    await page.click('[data-test=confirm-dialog][open] [data-test=confirm-yes]')
    await until(async () => (await rows.count()) === n - 1, 'row removed')
  })

  await test('logout returns to the login page and guards the app', async () => {
    await page.click('[data-test=logout]')
    await page.waitForURL(/\/login/)
    await until(
      async () => (await text('[data-test=login-notice]')).includes('signed out'),
      'notice',
    )
    await page.goto(`${stack.url}/sessions`)
    await page.waitForURL(/\/login\?redirect=/)
    // sign back in; the redirect brings us back to /sessions
    await page.fill('[data-test=login-username]', 'local')
    await page.fill('[data-test=login-password]', stack.password)
    await page.click('[data-test=login-submit]')
    await page.waitForURL(`${stack.url}/sessions`)
    await page.click('[data-test=nav-live]')
    await page.waitForURL(`${stack.url}/`)
  })
}

// Tests that restart or stop the server, or lock the login out: they run last.
async function tail(stack) {
  await test('the socket reconnects with backoff and re-authenticates after a restart', async () => {
    await page.goto(`${stack.url}/`)
    await until(
      async () => (await page.getAttribute('[data-test=connection]', 'data-state')) === 'nodata',
      'connected',
    )
    await stack.stopServe()
    await until(
      async () =>
        (await page.getAttribute('[data-test=connection]', 'data-state')) === 'reconnecting',
      'reconnecting state',
    )
    assert(/retrying in \d+ s/.test(await text('[data-test=connection]')), 'retry countdown')
    await shot('dashboard-reconnecting.png', false)
    await stack.startServe()
    await until(
      async () => (await page.getAttribute('[data-test=connection]', 'data-state')) === 'nodata',
      'authenticated again after the restart',
      20000,
    )
    const game = createSender(stack.udpPort)
    await game.send(Array(20).fill(outgauge({ speed: 5, rpm: 1500, gear: 1 })), 60)
    game.close()
    await until(async () => (await text('[data-test=speed]')) === '18', 'live again: 18 km/h')
  })

  await test('mobile layout: the dashboard fits a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await sleep(300)
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    )
    await shot('dashboard-mobile.png')
    await page.setViewportSize({ width: 1440, height: 1000 })
    assert(overflow <= 0, `horizontal overflow ${overflow}px`)
  })

  await test('server unreachable: the login page says so', async () => {
    await page.click('[data-test=logout]')
    await page.waitForURL(/\/login/)
    await stack.stopServe()
    await page.fill('[data-test=login-username]', 'local')
    await page.fill('[data-test=login-password]', stack.password)
    await page.click('[data-test=login-submit]')
    await page.waitForSelector('[data-test=login-error][data-kind=unreachable]')
    await shot('login-unreachable.png', false)
    await stack.startServe()
  })

  await test('rate limited: 429 with Retry-After shows how long to wait', async () => {
    let msg = ''
    for (let i = 0; i < 7 && !/Try again in/.test(msg); i++) {
      await page.fill('[data-test=login-username]', 'local')
      await page.fill('[data-test=login-password]', `wrong-${i}`)
      await page.click('[data-test=login-submit]')
      await page.waitForSelector('[data-test=login-error]')
      await sleep(150)
      msg = await text('[data-test=login-error]')
    }
    assert(/Too many failed attempts\. Try again in \d+ s\./.test(msg), `message ${msg}`)
    assert(await page.locator('[data-test=login-submit]').isDisabled(), 'button disabled')
    await shot('login-rate-limited.png', false)
  })
}

main()
  .catch((e) => {
    console.error(e)
    results.push({ name: 'harness', ok: false })
  })
  .finally(() => {
    const passed = results.filter((r) => r.ok).length
    const failed = results.length - passed
    console.log(`screenshots: ${existsSync(OUT) ? OUT : '(none)'}`)
    console.log(`${passed} passed, ${failed} failed`)
    process.exit(failed || !results.length ? 1 : 0)
  })
