// Debian's Chromium driven by playwright-core for the dashboard's browser tests: installed on first
// use, launched headless with a throw-away profile, and offline by construction — anything not
// served by the dashboard itself is refused and noted, so a test can assert nothing left the host.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { PROJECT_ROOT } from '../../lib/config';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots and downloads for a person to look at. */
export const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');

/** Debian's chromium, installed on first use when we are root (CI); otherwise say what to run. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM} is missing: install it with \`sudo apt-get install -y chromium\``);
  const apt = (...args: string[]) =>
    spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status;
  if (apt('install', '-y', '-q', 'chromium') !== 0) {
    // A fresh machine has no package lists yet.
    assert.equal(apt('update', '-q'), 0, 'apt-get update failed');
    assert.equal(apt('install', '-y', '-q', 'chromium'), 0, 'apt-get install chromium failed');
  }
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} still missing after apt-get install chromium`);
}

export interface OfflineBrowser {
  context: BrowserContext;
  /** URLs the pages tried to fetch from anywhere but `origin` (all refused). */
  external: string[];
  close(): Promise<void>;
}

export async function launchOffline(
  origin: string,
  options: { acceptDownloads?: boolean; httpCredentials?: { username: string; password: string } } = {},
): Promise<OfflineBrowser> {
  ensureChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(path.join(os.tmpdir(), 'etl-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
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
    viewport: { width: 1366, height: 900 },
    locale: 'en-US',
    acceptDownloads: options.acceptDownloads ?? false,
    // What a person types into the browser's own login prompt (HTTP Basic).
    ...(options.httpCredentials ? { httpCredentials: { ...options.httpCredentials, origin } } : {}),
  });
  const external: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    external.push(url);
    return route.abort();
  });
  return {
    context,
    external,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
