// What the browser tests share: Debian's chromium driven by playwright-core (Playwright's own
// browser download does not work here; dev/setup-browser.sh installs chromium and a CJK font), a
// whole tongban (test/support/testStack.ts: simulator, worker, api listening) with the development
// identity provider as its OpenID Provider, signing in through the real login form, screenshots
// kept as CI artefacts, and a watch on every page for script errors and CSP violations.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { findFreePort } from '../../dev/temporal-server.js';
import { DEV_PASSWORD } from '../../identity/devAccounts.js';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../identity/devProvider.js';
import { startTestStack, type TestStack } from '../support/testStack.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve('.data/artefacts/screenshots');
const CLIENT_ID = 'tongban-console';

/** Chromium, headless; fails (never skips) with what to run when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`chromium is missing at ${CHROMIUM}: run \`bash dev/setup-browser.sh\` (installs Debian's chromium and fonts-noto-cjk), then run the tests again`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface ConsoleSite {
  stack: TestStack;
  idp: DevIdentityProvider;
  /** Where the api (and the console) listens: http://127.0.0.1:<port>. */
  url: string;
  stop(): Promise<void>;
}

/** A whole tongban whose staff sign in at the development identity provider. */
export async function startConsoleSite(env: Record<string, string> = {}): Promise<ConsoleSite> {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const idp = await startDevIdentityProvider({
    clients: [{ clientId: CLIENT_ID, clientSecret, clientName: 'tongban console (browser tests)', redirectUris: [`${url}/auth/callback`], postLogoutRedirectUris: [`${url}/console/`] }],
  });
  let stack: TestStack;
  try {
    stack = await startTestStack({
      env: { PORT: String(port), PUBLIC_URL: url, OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: CLIENT_ID, OIDC_CLIENT_SECRET: clientSecret, STUCK_STREAM_INTERVAL_MS: '500', ...env },
    });
  } catch (e) {
    await idp.stop();
    throw e;
  }
  if (stack.apiUrl.replace(/\/$/, '') !== url) throw new Error(`the api listens at ${stack.apiUrl}, not ${url}`);
  return {
    stack,
    idp,
    url,
    async stop() {
      await stack.stop();
      await idp.stop();
    },
  };
}

/** A fresh browser profile in Chinese, China time, the size of an office screen. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1440, height: 900 }, acceptDownloads: true });
}

export interface PageWatch {
  /** Script errors, failed console messages and CSP violations seen so far. */
  problems: string[];
}

/** Records every uncaught error, console error and CSP violation of the page. */
export function watch(page: Page): PageWatch {
  const w: PageWatch = { problems: [] };
  page.on('pageerror', (e) => w.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A request the API refused on purpose (a 409 the page shows) is logged by chromium as a failed resource.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (4\d\d)/.test(m.text())) w.problems.push(`console: ${m.text()}`);
  });
  return w;
}

/**
 * Opens `path` of the console and signs in as `login` through the provider's login form (fields
 * `login` and `password`), landing back on `path`.
 */
export async function signIn(page: Page, site: ConsoleSite, login: string, at = '/console/'): Promise<void> {
  await page.goto(`${site.url}${at}`);
  // The console finds no session and sends the browser to /auth/login, which sends it to the provider.
  await page.waitForURL((u) => u.href.startsWith(site.idp.url), { timeout: 15_000 }).catch(async (e: Error) => {
    throw new Error(`${e.message}\nno sign-in page: the browser is at ${page.url()} showing ${JSON.stringify((await page.textContent('body'))?.slice(0, 500))}`);
  });
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', DEV_PASSWORD);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(`${site.url}${at.split('?')[0]}`), { timeout: 15_000 }), page.click('button[type="submit"]')]);
  await page.getByTestId('staff-name').waitFor();
}

/** A full-page screenshot kept for CI (.data/artefacts/screenshots/<name>.png); answers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  return file;
}

/** A font with Chinese glyphs is installed (fontconfig), so screenshots show characters, not boxes. */
export function expectCjkFont(): void {
  let families = '';
  try {
    families = execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  } catch {
    // No fontconfig: no font either.
  }
  expect(families.trim(), 'no CJK font installed: run `bash dev/setup-browser.sh` (fonts-noto-cjk)').not.toBe('');
}
