// Small pieces every page uses: badges, dates in China time, region names, error boxes, and what
// the staff member may do to a case (the policy table the API serves in /console/config.json).
import { h } from './dom.js';
import { getLang, label, t } from './i18n.js';

let appConfig = { temporalUi: null, policy: {}, provinces: {} };

export function setAppConfig(config) {
  appConfig = config;
}

export function appConfigOf() {
  return appConfig;
}

/** A region code with its province's name: 440100 (广东省). */
export function regionText(code) {
  if (!code) return '—';
  const province = appConfig.provinces?.[`${code.slice(0, 2)}0000`];
  return province ? `${code} ${province}` : code;
}

export function formatDateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(getLang(), { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(d);
}

/** Hours or days since an instant, for "waiting since". */
export function ago(iso) {
  const ms = Date.now() - new Date(iso).getTime();
  if (!Number.isFinite(ms)) return '';
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 1) return t('time.minutes', { n: Math.max(0, Math.floor(ms / 60_000)) });
  if (hours < 48) return t('time.hours', { n: hours });
  return t('time.days', { n: Math.floor(hours / 24) });
}

/** Today's date in China, YYYY-MM-DD, moved by `days`. */
export function chinaDate(days = 0) {
  const d = new Date(Date.now() + days * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

export function addDays(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function slaBadge(state) {
  if (!state) return h('span', { class: 'badge sla-none', text: t('sla.none') });
  return h('span', { class: `badge sla-${state}`, text: label('sla', state) });
}

export function statusBadge(c) {
  return h('span', { class: ['badge', `status-${c.status}`] }, label('status', c.status), c.needsIntervention ? h('span', { class: 'badge-flag', text: ` · ${t('case.needsIntervention')}` }) : null);
}

export function shortId(id) {
  return id ? id.slice(0, 8) : '';
}

export function caseLink(caseId, text) {
  return h('a', { href: `/console/cases/${caseId}`, class: 'mono', title: caseId }, text ?? shortId(caseId));
}

/** An error as a box: the API's problem lines (each invalid field on its own line). */
export function errorBox(error) {
  const lines = String(error?.message ?? error).split('\n');
  return h('div', { class: 'error', role: 'alert' }, lines.map((line) => h('div', {}, line)));
}

export function notice(text, kind = 'info') {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function loading() {
  return h('p', { class: 'loading', text: t('common.loading') });
}

/** Whether a staff member's region covers a case's region (domain/regions.ts regionCovers). */
export function regionCovers(scope, region) {
  if (scope.endsWith('0000')) return region.startsWith(scope.slice(0, 2));
  if (scope.endsWith('00')) return region.startsWith(scope.slice(0, 4));
  return region === scope;
}

export function sidesOf(staff, c) {
  return { receiving: regionCovers(staff.region, c.receivingRegion), handling: regionCovers(staff.region, c.handlingRegion) };
}

/**
 * Whether the staff member may attempt `policyKey` (case.retry, …) on the case: their role is
 * allowed and they stand on the side the rule asks for. Unknown rules fall back to `fallback`.
 */
export function mayDo(staff, policyKey, c, fallback) {
  const rule = appConfig.policy?.[policyKey] ?? fallback;
  if (!rule) return false;
  if (!rule.roles.includes(staff.role)) return false;
  if (!c) return true;
  const on = sidesOf(staff, c);
  if (rule.side === 'receiving') return on.receiving;
  if (rule.side === 'handling') return on.handling;
  return on.receiving || on.handling;
}

/** Roles that work on cases (search, case pages, the stuck queue). */
export const CASE_ROLES = ['clerk', 'approver', 'supervisor'];
/** Roles that read the SLA report. */
export const REPORT_ROLES = ['supervisor', 'manager'];
