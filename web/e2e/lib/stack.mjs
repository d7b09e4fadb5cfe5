// SPDX-License-Identifier: MIT
// stack.mjs: starts and stops the real back end for the end-to-end tests: a private PostgreSQL
// (scripts/pg-private), `beamtel db migrate` and `beamtel serve` on ephemeral loopback ports.
import { spawn, execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
export const WEB_DIR = resolve(HERE, '..', '..')
export const REPO = resolve(WEB_DIR, '..')
const PG_PRIVATE = join(REPO, 'scripts', 'pg-private')

/** The beamtel binary: $BEAMTEL_BIN, else the first of the usual build folders that has one. */
export function findBeamtel() {
  const candidates = [
    process.env.BEAMTEL_BIN,
    join(REPO, 'build', 'ci', 'beamtel'),
    join(REPO, 'build', 'beamtel'),
    '/tmp/build-web/beamtel',
  ].filter(Boolean)
  // A stale build without the HTTP server would fail later and less clearly: skip it here.
  const found = candidates.find((p) => {
    if (!existsSync(p)) return false
    try {
      return sh(p, ['serve', '--help']).includes('--http')
    } catch {
      return false
    }
  })
  if (!found) {
    throw new Error(
      `no beamtel binary with serve --http (set BEAMTEL_BIN); looked in ${candidates}`,
    )
  }
  return found
}

/** A free TCP port on 127.0.0.1 that is also free for UDP. */
export async function freePort() {
  for (;;) {
    const port = await new Promise((res, rej) => {
      const s = createServer()
      s.once('error', rej)
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port
        s.close(() => res(p))
      })
    })
    const udpFree = await new Promise((res) => {
      const u = createSocket('udp4')
      u.once('error', () => res(false))
      u.bind(port, '127.0.0.1', () => u.close(() => res(true)))
    })
    if (udpFree) return port
  }
}

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Starts PostgreSQL and `serve`. Returns {url, udpPort, password, dsn, bin, dir, logPath,
 * stop()}. Options: idleTimeoutS (session end after standing still), extra serve args.
 */
export async function startStack({ idleTimeoutS = 3, extra = [] } = {}) {
  const bin = findBeamtel()
  const dir = mkdtempSync(join(tmpdir(), 'beamtel-e2e-'))
  // As root, PostgreSQL runs as the user `beamtel`, which must be able to enter the folder.
  chmodSync(dir, 0o711)
  const pgDir = join(dir, 'pg')
  try {
    return await start(bin, dir, pgDir, { idleTimeoutS, extra })
  } catch (e) {
    try {
      sh(PG_PRIVATE, ['stop', pgDir])
    } catch {
      // never started
    }
    if (!process.env.BEAMTEL_E2E_KEEP) rmSync(dir, { recursive: true, force: true })
    throw e
  }
}

async function start(bin, dir, pgDir, { idleTimeoutS, extra }) {
  const pgPort = await freePort()
  sh(PG_PRIVATE, ['init', pgDir, '--port', String(pgPort)])
  sh(PG_PRIVATE, ['start', pgDir])
  const dsn = sh(PG_PRIVATE, ['dsn', pgDir]).trim()
  sh(bin, ['db', 'migrate', '--db', dsn])

  const password = 'e2e-' + Math.random().toString(36).slice(2, 12)
  const pwFile = join(dir, 'admin-password')
  writeFileSync(pwFile, password + '\n', { mode: 0o600 })
  const secretFile = join(dir, 'jwt-secret')
  writeFileSync(secretFile, 'e2e-secret-'.padEnd(48, 'x') + '\n', { mode: 0o600 })

  const httpPort = await freePort()
  const udpPort = await freePort()
  const logPath = join(dir, 'serve.log')
  const log = openSync(logPath, 'a')
  const args = [
    'serve',
    '--db',
    dsn,
    '--udp',
    `127.0.0.1:${udpPort}`,
    '--http',
    `127.0.0.1:${httpPort}`,
    '--web-root',
    join(WEB_DIR, 'dist'),
    '--state-dir',
    join(dir, 'state'),
    '--admin-password-file',
    pwFile,
    '--jwt-secret-file',
    secretFile,
    '--idle-timeout',
    String(idleTimeoutS),
    ...extra,
  ]
  const env = { ...process.env }
  delete env.BEAMTEL_ADMIN_PASSWORD
  const url = `http://127.0.0.1:${httpPort}`
  let proc = null
  let exited = null

  function readLog() {
    try {
      return readFileSync(logPath, 'utf8')
    } catch {
      return ''
    }
  }

  /** Starts `serve` and waits until /api/health answers. */
  async function startServe() {
    exited = null
    const p = spawn(bin, args, { stdio: ['ignore', log, log], env })
    proc = p
    p.on('exit', (code, sig) => {
      if (proc === p) exited = { code, sig }
    })
    const deadline = Date.now() + 20000
    for (;;) {
      if (exited) throw new Error(`serve exited ${JSON.stringify(exited)}:\n${readLog()}`)
      if (Date.now() > deadline) {
        p.kill('SIGKILL')
        throw new Error(`serve did not answer /api/health:\n${readLog()}`)
      }
      try {
        const r = await fetch(`${url}/api/health`)
        if (r.ok) return
      } catch {
        // not listening yet
      }
      await sleep(100)
    }
  }

  /** Stops `serve` with SIGTERM (it writes what is queued), SIGKILL after 20 s. */
  async function stopServe() {
    if (proc && !exited) {
      proc.kill('SIGTERM')
      for (let i = 0; i < 200 && !exited; i++) await sleep(100)
      if (!exited) proc.kill('SIGKILL')
      for (let i = 0; i < 50 && !exited; i++) await sleep(100)
    }
  }

  async function stop({ keep = false } = {}) {
    await stopServe()
    try {
      sh(PG_PRIVATE, ['stop', pgDir])
    } catch {
      // already stopped
    }
    if (!keep) rmSync(dir, { recursive: true, force: true })
  }

  await startServe()
  return {
    url,
    httpPort,
    udpPort,
    password,
    dsn,
    bin,
    dir,
    logPath,
    readLog,
    startServe,
    stopServe,
    stop,
  }
}

/**
 * A UDP sender with one socket, so every datagram comes from the same source port, as the game
 * sends them (serve keeps sessions per source). send() paces at `hz` without drift (0: at once).
 */
export function createSender(port) {
  const sock = createSocket('udp4')
  const one = (b) =>
    new Promise((res, rej) => sock.send(b, port, '127.0.0.1', (e) => (e ? rej(e) : res())))
  return {
    async send(payloads, hz) {
      const t0 = performance.now()
      for (let i = 0; i < payloads.length; i++) {
        if (hz > 0) {
          const wait = t0 + (i * 1000) / hz - performance.now()
          if (wait > 1) await sleep(wait)
        }
        await one(payloads[i])
      }
    },
    close() {
      sock.close()
    },
  }
}

/** Sends datagrams from a fresh socket (see createSender). */
export async function sendPaced(port, payloads, hz) {
  const s = createSender(port)
  try {
    await s.send(payloads, hz)
  } finally {
    s.close()
  }
}
