// The console's one way to the API: same-origin fetch with the session cookie, the CSRF token
// from /auth/me on every state-changing request, and problem+json (RFC 9457) turned into an error
// a clerk can read, naming each invalid field. A 401 means the session ended: back to sign-in,
// returning to the page the staff member was on.
import { t } from './i18n.js';

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problemText(status, problem));
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** "title: detail" and one line per field error ("path: message"). */
function problemText(status, p) {
  if (!p || typeof p !== 'object') return t('error.http', { status });
  const head = [p.title, p.detail].filter(Boolean).join(': ') || t('error.http', { status });
  const fields = Array.isArray(p.errors) ? p.errors.map((e) => `${e.path}: ${e.message}`) : [];
  return [head, ...fields].join('\n');
}

export function signInUrl() {
  const here = `${location.pathname}${location.search}`;
  return `/auth/login?returnTo=${encodeURIComponent(here)}`;
}

function toSignIn() {
  location.assign(signInUrl());
  // Nothing more happens on this page; callers wait for the navigation.
  return new Promise(() => {});
}

/** The signed-in staff member ({sub, name, role, region, csrfToken}); sends the browser to sign-in on 401. */
export async function me() {
  const res = await fetch('/auth/me', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) return toSignIn();
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  const staff = await res.json();
  csrfToken = staff.csrfToken ?? null;
  return staff;
}

async function readProblem(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * A request to the API. `body` is sent as JSON, `form` (FormData) as multipart. Resolves to the
 * parsed JSON (null for 204) and the status: {status, data}.
 */
export async function request(path, { method = 'GET', body, form, signal } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, { method, credentials: 'same-origin', headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)), signal });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, { title: t('error.network'), detail: String(e?.message ?? e) });
  }
  if (res.status === 401) return toSignIn();
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  if (res.status === 204) return { status: 204, data: null };
  return { status: res.status, data: await res.json() };
}

/** GET and return the JSON. */
export async function get(path, opts = {}) {
  return (await request(path, opts)).data;
}

export async function post(path, body) {
  return request(path, { method: 'POST', body });
}

/** Uploads one file (POST /v1/files); returns {fileId, sha256, size, contentType}. */
export async function uploadFile(file) {
  const form = new FormData();
  form.append('file', file, file.name);
  return (await request('/v1/files', { method: 'POST', form })).data;
}

/** Ends the session (204), or follows the identity provider's logout (200 {location}); then signs in again. */
export async function signOut() {
  const res = await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', headers: csrfToken ? { 'x-csrf-token': csrfToken } : {} });
  if (res.status === 200) {
    const body = await res.json().catch(() => null);
    if (body && typeof body.location === 'string') return location.assign(body.location);
  }
  location.reload();
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
