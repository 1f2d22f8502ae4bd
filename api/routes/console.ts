// The staff console (console/, docs/console.md): plain ES modules served as they are, no build
// step. Files are read from one fixed folder (a path that leaves it is refused before the disk is
// touched); a page path without a file extension (/console/cases/<id>, /console/stuck) answers
// index.html so the browser's router takes over. ECharts comes from node_modules. Every answer
// carries a strict Content-Security-Policy (scripts and styles only from this origin, none
// inline), so a value shown on a page can never run as code. The data comes from /v1 with the
// session cookie; nothing here needs a login, and nothing here is personal data.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CASE_POLICY } from '../../domain/policy.js';
import { PROVINCES } from '../../domain/regions.js';
import { problem } from '../problem.js';

const CONSOLE_ROOT = path.resolve(fileURLToPath(new URL('../../console/', import.meta.url)));
const ECHARTS_FILE = fileURLToPath(new URL('../../node_modules/echarts/dist/echarts.min.js', import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** A relative path under the console root, or null for anything that could leave it or name a hidden file. */
export function safeConsolePath(relative: string): string | null {
  if (relative.includes('\0') || relative.includes('\\')) return null;
  const segments = relative.split('/');
  // An empty segment is allowed only at the end (/console/, a trailing slash): never `//`.
  if (segments.some((s, i) => s.startsWith('.') || (s === '' && i < segments.length - 1))) return null;
  const full = path.resolve(CONSOLE_ROOT, ...segments.filter((s) => s !== ''));
  return full === CONSOLE_ROOT || full.startsWith(CONSOLE_ROOT + path.sep) ? full : null;
}

interface ConsoleConfig {
  temporalUi: { url: string; namespace: string } | null;
  /** Who may do what (domain/policy.ts), so the pages show only what the staff member may do; the API decides anyway. */
  policy: Record<string, { roles: readonly string[]; side: string }>;
  /** Province names by code, to show a region code with its province. */
  provinces: Readonly<Record<string, string>>;
}

/**
 * The Temporal Web UI the case page links to: TEMPORAL_UI_URL when the configuration has one, else
 * the UI of the dev server `npm start` runs when no TEMPORAL_ADDRESS is configured; none otherwise.
 */
function temporalUiOf(config: Record<string, unknown>): ConsoleConfig['temporalUi'] {
  const namespace = String(config.TEMPORAL_NAMESPACE ?? 'default');
  const configured = config.TEMPORAL_UI_URL;
  if (typeof configured === 'string' && /^https?:\/\//.test(configured)) return { url: configured.replace(/\/+$/, ''), namespace };
  if (!config.TEMPORAL_ADDRESS && typeof config.TEMPORAL_UI_PORT === 'number') return { url: `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`, namespace };
  return null;
}

export const consoleRoutes: FastifyPluginAsync = async (app) => {
  const consoleConfig: ConsoleConfig = {
    temporalUi: temporalUiOf(app.config as unknown as Record<string, unknown>),
    policy: Object.fromEntries(Object.entries(CASE_POLICY).map(([action, rule]) => [action, { roles: rule.roles, side: rule.side }])),
    provinces: PROVINCES,
  };

  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  async function sendFile(request: FastifyRequest, reply: FastifyReply, file: string, cacheControl = 'no-cache') {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') throw problem(404, `no console file ${request.url.split('?')[0]}`);
      throw e;
    }
    const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
    reply.header('etag', etag).header('cache-control', cacheControl);
    const match = request.headers['if-none-match'];
    if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return reply.code(304).send();
    return reply.type(CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream').send(bytes);
  }

  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));

  app.get('/console/config.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(consoleConfig));

  // The one vendor file: ECharts' browser build, cached for a day (it changes only with npm install).
  app.get('/console/vendor/echarts.min.js', { schema: { hide: true } }, async (request, reply) => sendFile(request, reply, ECHARTS_FILE, 'public, max-age=86400'));

  app.get<{ Params: { '*': string } }>('/console/*', { schema: { hide: true } }, async (request, reply) => {
    const relative = request.params['*'];
    const file = safeConsolePath(relative);
    if (!file) throw problem(400, 'not a console path');
    // A page of the console's own router: the client renders it from index.html.
    const isPage = relative === '' || path.extname(relative) === '';
    if (isPage) return sendFile(request, reply, path.join(CONSOLE_ROOT, 'index.html'));
    if (!(path.extname(file) in CONTENT_TYPES)) throw problem(404, `no console file ${request.url.split('?')[0]}`);
    return sendFile(request, reply, file);
  });
};
