// SPDX-License-Identifier: MIT
// browser.mjs: launches Debian's headless Chromium through playwright-core for the e2e tests.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

export const CHROMIUM = process.env.BEAMTEL_CHROMIUM || '/usr/bin/chromium'

/** A fresh persistent context (own profile folder) and its first page; close() removes both. */
export async function launch({ width = 1440, height = 1000 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'beamtel-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width, height },
    deviceScaleFactor: 1,
    acceptDownloads: true,
    colorScheme: 'dark',
  })
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
