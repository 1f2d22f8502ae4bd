// The console's entry: who is signed in (/auth/me, else sign-in), the header, and a small router
// over the History API. Each page module exports render(ctx) → {el, dispose?}; dispose closes
// what the page left running (the stuck queue's event stream, a bulk job's polling, charts).
import { me, signOut, get } from './api.js';
import { h, replace } from './dom.js';
import { getLang, label, onLanguageChange, setLang, t } from './i18n.js';
import { CASE_ROLES, REPORT_ROLES, errorBox, loading, regionText, setAppConfig } from './ui.js';
import * as searchPage from './pages/search.js';
import * as casePage from './pages/case.js';
import * as stuckPage from './pages/stuck.js';
import * as dashboardPage from './pages/dashboard.js';

const ROUTES = [
  { name: 'search', pattern: /^\/console\/?$/, page: searchPage, roles: CASE_ROLES },
  { name: 'case', pattern: /^\/console\/cases\/([0-9a-fA-F-]{36})\/?$/, page: casePage, roles: CASE_ROLES },
  { name: 'stuck', pattern: /^\/console\/stuck\/?$/, page: stuckPage, roles: CASE_ROLES },
  { name: 'dashboard', pattern: /^\/console\/dashboard\/?$/, page: dashboardPage, roles: REPORT_ROLES },
];

const NAV = [
  { href: '/console/', key: 'nav.search', route: 'search' },
  { href: '/console/stuck', key: 'nav.stuck', route: 'stuck' },
  { href: '/console/dashboard', key: 'nav.dashboard', route: 'dashboard' },
];

let staff = null;
let current = null;

function navigate(href, { replace: replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  render();
}

function header() {
  const route = matchRoute(location.pathname)?.route.name;
  const allowed = NAV.filter((n) => ROUTES.find((r) => r.name === n.route).roles.includes(staff.role));
  return h(
    'div',
    { class: 'topbar' },
    h('a', { class: 'brand', href: allowed[0]?.href ?? '/console/' }, t('app.title')),
    h('nav', { 'aria-label': t('nav.label') }, allowed.map((n) => h('a', { href: n.href, class: n.route === route ? 'active' : null, 'aria-current': n.route === route ? 'page' : null }, t(n.key)))),
    h(
      'div',
      { class: 'who' },
      h('span', { class: 'who-name', 'data-testid': 'staff-name' }, staff.name ?? staff.sub),
      h('span', { class: 'badge role', 'data-testid': 'staff-role' }, label('role', staff.role)),
      h('span', { class: 'who-region' }, regionText(staff.region)),
      h('button', { type: 'button', class: 'link lang', 'data-testid': 'lang-switch', onclick: () => setLang(getLang() === 'en' ? 'zh-CN' : 'en') }, getLang() === 'en' ? '中文' : 'English'),
      h('button', { type: 'button', class: 'link', 'data-testid': 'sign-out', onclick: () => signOut() }, t('nav.signOut')),
    ),
  );
}

function matchRoute(pathname) {
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (m) return { route, params: m.slice(1) };
  }
  return null;
}

function render() {
  current?.dispose?.();
  current = null;
  document.documentElement.lang = getLang();
  document.title = t('app.title');
  replace(document.getElementById('top'), header());
  const main = document.getElementById('main');
  const found = matchRoute(location.pathname);
  if (!found) {
    replace(main, h('h1', {}, t('page.notFound')), h('p', {}, h('a', { href: '/console/' }, t('nav.search'))));
    return;
  }
  if (!found.route.roles.includes(staff.role)) {
    // A manager's home is the dashboard; anyone else sees what their role lacks.
    const home = NAV.find((n) => ROUTES.find((r) => r.name === n.route).roles.includes(staff.role));
    if (found.route.name === 'search' && home) return navigate(home.href, { replace: true });
    replace(main, h('h1', {}, t('page.forbidden')), h('p', {}, t('page.forbiddenDetail', { role: label('role', staff.role) })));
    return;
  }
  const ctx = { staff, params: found.params, query: new URLSearchParams(location.search), navigate };
  try {
    current = found.route.page.render(ctx);
    replace(main, current.el);
    document.title = `${current.title ?? t(`nav.${found.route.name}`)} · ${t('app.title')}`;
  } catch (e) {
    replace(main, errorBox(e));
  }
}

// Links inside the console go through the router; downloads, other paths and modified clicks do not.
document.addEventListener('click', (event) => {
  const a = event.target instanceof Element ? event.target.closest('a[href]') : null;
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (a.hasAttribute('download') || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/console/') || url.pathname.startsWith('/console/vendor/')) return;
  event.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);
onLanguageChange(render);

async function start() {
  const main = document.getElementById('main');
  replace(main, loading());
  try {
    const [who, config] = await Promise.all([me(), get('/console/config.json')]);
    staff = who;
    setAppConfig(config);
    render();
  } catch (e) {
    replace(main, errorBox(e));
  }
}

start();
