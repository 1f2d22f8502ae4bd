// The console's serving (api/routes/console.ts): files from console/ with their content types,
// index.html for the client router's deep links, ECharts from node_modules, ETags, the security
// headers on every answer, and nothing outside the folder however the path is spelt. Also two
// guards over the console's source: every label it uses exists in both languages, and nothing
// writes HTML strings or inline script/style (the CSP would block them anyway).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../api/routes/console.js';
import { createApiHarness, PROBLEM_JSON, type ApiHarness } from './helpers.js';

const CONSOLE_DIR = path.resolve('console');

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h.close();
});

const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers });

function expectSecurityHeaders(res: { headers: Record<string, unknown> }) {
  const csp = String(res.headers['content-security-policy']);
  expect(csp).toBe(CONTENT_SECURITY_POLICY);
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
}

describe('the console is served', () => {
  it('redirects / and /console to /console/', async () => {
    for (const url of ['/', '/console']) {
      const res = await get(url);
      expect(res.statusCode).toBe(302);
      expect(res.headers.location).toBe('/console/');
    }
  });

  it('answers index.html in Chinese, with the security headers and an ETag', async () => {
    const res = await get('/console/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<html lang="zh-CN">');
    expect(res.body).toContain('<script type="module" src="/console/app.js"></script>');
    expectSecurityHeaders(res);
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers['cache-control']).toBe('no-cache');

    const again = await get('/console/', { 'if-none-match': String(res.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('answers index.html for the router’s deep links', async () => {
    const index = fs.readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
    for (const url of ['/console/cases/0b6f1c2e-7c1d-4a53-9a57-3d5c2b8f9e10', '/console/stuck', '/console/dashboard', '/console/stuck?reason=intervention']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toBe(index);
      expectSecurityHeaders(res);
    }
  });

  it('serves scripts and styles with their content types', async () => {
    const cases: [string, string][] = [
      ['/console/app.js', 'text/javascript; charset=utf-8'],
      ['/console/pages/case.js', 'text/javascript; charset=utf-8'],
      ['/console/i18n.js', 'text/javascript; charset=utf-8'],
      ['/console/style.css', 'text/css; charset=utf-8'],
    ];
    for (const [url, type] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe(type);
      expect(res.body).toBe(fs.readFileSync(path.join(CONSOLE_DIR, url.slice('/console/'.length)), 'utf8'));
      expectSecurityHeaders(res);
    }
  });

  it('serves ECharts from node_modules, cacheable', async () => {
    const res = await get('/console/vendor/echarts.min.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=86400');
    expect(res.rawPayload.length).toBe(fs.statSync('node_modules/echarts/dist/echarts.min.js').size);
    const again = await get('/console/vendor/echarts.min.js', { 'if-none-match': String(res.headers.etag) });
    expect(again.statusCode).toBe(304);
  });

  it('serves its configuration: the policy table and province names, no secrets', async () => {
    const res = await get('/console/config.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const config = res.json<{ policy: Record<string, { roles: string[]; side: string }>; provinces: Record<string, string>; temporalUi: unknown }>();
    expect(config.policy['case.retry']).toEqual({ roles: ['clerk', 'approver', 'supervisor'], side: 'either' });
    expect(config.policy['case.readAccessLog']?.roles).toEqual(['supervisor']);
    expect(config.provinces['440000']).toBe('广东省');
    expect(res.body).not.toContain(h.secrets.jwtSecret);
    expect(res.body).not.toContain(h.secrets.piiHashKey);
    expectSecurityHeaders(res);
  });

  it('answers 404 (problem+json) for a file it does not have', async () => {
    for (const url of ['/console/missing.js', '/console/pages/missing.js', '/console/vendor/other.js']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    }
  });

  it('refuses every path that would leave the console folder or name a hidden file', async () => {
    const packageJson = fs.readFileSync('package.json', 'utf8');
    const appTs = fs.readFileSync('api/app.ts', 'utf8');
    const attempts = [
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/..%2fpackage.json',
      '/console/%2e%2e%2fpackage.json',
      '/console/pages/..%2f..%2fpackage.json',
      '/console/pages/%2e%2e/%2e%2e/api/app.ts',
      '/console/..%5c..%5cpackage.json',
      '/console/%00.js',
      '/console/.eslintrc.js',
      '/console/pages/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/console//etc/passwd',
    ];
    for (const url of attempts) {
      const res = await get(url);
      expect([400, 404], `${url} → ${res.statusCode}`).toContain(res.statusCode);
      expect(res.body, url).not.toContain(packageJson.slice(0, 40));
      expect(res.body, url).not.toContain(appTs.slice(0, 40));
      expect(res.body, url).not.toContain('root:x:0:0');
    }
  });
});

describe('the console’s source', () => {
  const files = ['app.js', 'api.js', 'dom.js', 'i18n.js', 'ui.js', ...fs.readdirSync(path.join(CONSOLE_DIR, 'pages')).map((f) => `pages/${f}`)];
  const sources = Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(CONSOLE_DIR, f), 'utf8')]));

  it('has every label it uses in Chinese and in English', async () => {
    const { dictionaries } = (await import(pathToFileURL(path.join(CONSOLE_DIR, 'i18n.js')).href)) as { dictionaries: Record<'zh-CN' | 'en', Record<string, string>> };
    const used = new Set<string>();
    for (const text of Object.values(sources)) for (const m of text.matchAll(/\bt\('([^']+)'/g)) used.add(m[1]!);
    // Keys built from a value: each value the pages pass.
    for (const a of ['retry', 'record-offline', 'reroute', 'extend', 'withdraw', 'reassign', 'note']) used.add(`actionHelp.${a}`).add(`action.${a}`);
    for (const d of ['promised', 'statutory', 'delivery']) used.add(`deadlines.${d}`);
    for (const n of ['search', 'case', 'stuck', 'dashboard']) used.add(`nav.${n}`);
    expect(used.size).toBeGreaterThan(200);
    for (const lang of ['zh-CN', 'en'] as const) {
      const missing = [...used].filter((k) => !(k in dictionaries[lang]));
      expect(missing, lang).toEqual([]);
    }
    // Every English label has its Chinese one (Chinese is the default).
    expect(Object.keys(dictionaries.en).filter((k) => !(k in dictionaries['zh-CN']))).toEqual([]);
  });

  it('writes no HTML strings and no inline script or style', () => {
    for (const [file, text] of Object.entries(sources)) {
      expect(text, file).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/);
      expect(text, file).not.toMatch(/setAttribute\(\s*['"]style['"]/);
    }
    const index = fs.readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(index).not.toMatch(/\sstyle=|<style/);
    expect(index).not.toMatch(/\son[a-z]+=/);
  });
});
