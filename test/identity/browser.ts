// A few lines of browser behaviour over real HTTP for the sign-in tests: a cookie jar (per host,
// path-prefixed, Max-Age/Expires honoured, as a browser keeps them; ports do not separate cookies)
// and redirects followed by hand, so each hop can be looked at. Not a browser: no SameSite rules,
// no scripts; the browser tests (playwright) cover a real one.

export interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
  attributes: Record<string, string | true>;
}

export interface Hop {
  url: string;
  status: number;
  location: string | null;
  setCookies: string[];
}

export class TestBrowser {
  readonly cookies = new Map<string, Cookie>();

  private store(url: URL, header: string): void {
    const [pair, ...attrs] = header.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    const attributes: Record<string, string | true> = {};
    for (const a of attrs) {
      const i = a.indexOf('=');
      if (i === -1) attributes[a.toLowerCase()] = true;
      else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    const path = typeof attributes.path === 'string' ? attributes.path : '/';
    const key = `${url.hostname}|${path}|${name}`;
    const maxAge = typeof attributes['max-age'] === 'string' ? Number(attributes['max-age']) : undefined;
    const expires = typeof attributes.expires === 'string' ? Date.parse(attributes.expires) : undefined;
    if ((maxAge !== undefined && maxAge <= 0) || (expires !== undefined && expires <= Date.now())) {
      this.cookies.delete(key);
      return;
    }
    this.cookies.set(key, { name, value, host: url.hostname, path, attributes });
  }

  /** The cookies a request to `url` would carry. */
  cookiesFor(url: string): Cookie[] {
    const u = new URL(url);
    return [...this.cookies.values()].filter((c) => c.host === u.hostname && (u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)));
  }

  cookie(name: string): Cookie | undefined {
    return [...this.cookies.values()].find((c) => c.name === name);
  }

  /** One request, no redirect followed; cookies sent and kept. */
  async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | FormData | URLSearchParams } = {}): Promise<Response> {
    const cookieHeader = this.cookiesFor(url).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { ...(cookieHeader ? { cookie: cookieHeader } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      redirect: 'manual',
    });
    for (const header of res.headers.getSetCookie()) this.store(new URL(url), header);
    return res;
  }

  /**
   * Follows redirects from `url` until an answer that is not one, or until the next hop's URL
   * satisfies `stopBefore` (that hop is not requested). Answers the last response and the hops.
   */
  async follow(url: string, opts: { stopBefore?: (next: string) => boolean; max?: number; init?: Parameters<TestBrowser['request']>[1] } = {}): Promise<{ res: Response; url: string; hops: Hop[]; next: string | null }> {
    const hops: Hop[] = [];
    let current = url;
    let res = await this.request(current, opts.init);
    for (let i = 0; i < (opts.max ?? 15); i++) {
      const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
      hops.push({ url: current, status: res.status, location, setCookies: res.headers.getSetCookie() });
      if (!location) return { res, url: current, hops, next: null };
      const next = new URL(location, current).href;
      if (opts.stopBefore?.(next)) return { res, url: current, hops, next };
      await res.arrayBuffer();
      current = next;
      res = await this.request(current);
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

/** The first form of an HTML page: its action (absolute) and its hidden inputs. */
export function formOf(html: string, pageUrl: string, id?: string): { action: string; hidden: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  const form = id ? forms.find((f) => f[1]!.includes(`id="${id}"`)) : forms[0];
  if (!form) throw new Error(`no form in ${pageUrl}:\n${html.slice(0, 500)}`);
  const action = /action="([^"]*)"/.exec(form[1]!)?.[1] ?? pageUrl;
  const hidden: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input\b[^>]*type="hidden"[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) hidden[name] = value;
  }
  return { action: new URL(action.replace(/&amp;/g, '&'), pageUrl).href, hidden };
}
