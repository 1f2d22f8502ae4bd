// Search (/console/): by case id (straight to the case), the applicant's identity number (sent to
// the API, which looks it up by keyed hash; the page never shows it back and keeps it out of the
// address bar), item, region, stage, status, SLA state, stuck. Filters other than the identity
// number live in the address, so a search can be bookmarked and the back button works.
import { ApiError, get, query } from '../api.js';
import { field, h, replace, select, table } from '../dom.js';
import { label, t } from '../i18n.js';
import { caseLink, errorBox, formatDateTime, loading, regionText, sidesOf, slaBadge, statusBadge } from '../ui.js';

export const STAGES = ['intake', 'precheck', 'correction', 'transfer', 'review', 'decision', 'delivery', 'closed'];
export const STATUSES = ['active', 'awaiting_supplement', 'completed', 'rejected', 'withdrawn', 'not_accepted', 'not_supplemented'];
export const STUCK_REASONS = ['intervention', 'province_silent', 'idle', 'sla_red', 'consultation_missed', 'liaison_unanswered', 'workflow_failing'];
const FILTERS = ['itemCode', 'receivingRegion', 'handlingRegion', 'stage', 'status', 'sla', 'stuck', 'reason'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function render(ctx) {
  const q = ctx.query;
  const results = h('div', { class: 'results', 'data-testid': 'search-results' });
  const itemSelect = select({ name: 'itemCode' }, [['', t('common.any')]], q.get('itemCode'));
  const controller = new AbortController();

  const form = h(
    'form',
    { class: 'filters', 'data-testid': 'search-form', onsubmit: (e) => { e.preventDefault(); submit(); } },
    field(t('search.caseId'), h('input', { name: 'caseId', class: 'mono', placeholder: '00000000-0000-…', autocomplete: 'off', spellcheck: 'false' })),
    field(t('search.idNumber'), h('input', { name: 'idNumber', autocomplete: 'off', spellcheck: 'false', maxlength: '18' }), t('search.idNumberHint')),
    field(t('search.item'), itemSelect),
    field(t('search.receivingRegion'), h('input', { name: 'receivingRegion', inputmode: 'numeric', pattern: '\\d{6}', maxlength: '6', value: q.get('receivingRegion') ?? '' })),
    field(t('search.handlingRegion'), h('input', { name: 'handlingRegion', inputmode: 'numeric', pattern: '\\d{6}', maxlength: '6', value: q.get('handlingRegion') ?? '' })),
    field(t('search.stage'), select({ name: 'stage' }, [['', t('common.any')], ...STAGES.map((s) => [s, label('stage', s)])], q.get('stage'))),
    field(t('search.status'), select({ name: 'status' }, [['', t('common.any')], ...STATUSES.map((s) => [s, label('status', s)])], q.get('status'))),
    field(t('search.sla'), select({ name: 'sla' }, [['', t('common.any')], ...['green', 'yellow', 'red'].map((s) => [s, label('sla', s)])], q.get('sla'))),
    field(t('search.stuck'), h('input', { type: 'checkbox', name: 'stuck', value: 'true', checked: q.get('stuck') === 'true' })),
    field(t('search.reason'), select({ name: 'reason' }, [['', t('common.any')], ...STUCK_REASONS.map((r) => [r, label('reason', r)])], q.get('reason'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('search.submit')), h('button', { type: 'reset', onclick: () => setTimeout(() => ctx.navigate('/console/'), 0) }, t('search.clear'))),
  );

  get('/v1/items', { signal: controller.signal })
    .then(({ items }) => {
      for (const item of items) itemSelect.append(h('option', { value: item.code, selected: item.code === q.get('itemCode') }, `${item.name} (${item.code})`));
    })
    .catch(() => {
      // The item list only helps; the search works without it.
    });

  function filtersOf() {
    const data = new FormData(form);
    const out = {};
    for (const key of FILTERS) {
      const v = data.get(key);
      if (typeof v === 'string' && v.trim() !== '') out[key] = v.trim();
    }
    if (out.reason) out.stuck = 'true';
    return out;
  }

  function submit() {
    const data = new FormData(form);
    const caseId = String(data.get('caseId') ?? '').trim();
    if (caseId) {
      if (!UUID.test(caseId)) return replace(results, errorBox(new Error(t('search.badCaseId'))));
      return ctx.navigate(`/console/cases/${caseId.toLowerCase()}`);
    }
    const filters = filtersOf();
    const idNumber = String(data.get('idNumber') ?? '').trim();
    // The identity number stays out of the address bar and history.
    history.replaceState(null, '', `/console/${query(filters)}`);
    load(filters, idNumber, null, false);
  }

  async function load(filters, idNumber, cursor, more) {
    if (!more) replace(results, loading());
    try {
      const page = await get(`/v1/cases${query({ ...filters, ...(idNumber ? { idNumber } : {}), ...(cursor ? { cursor } : {}), limit: filters.stuck ? undefined : 50 })}`, { signal: controller.signal });
      showPage(page, filters, idNumber, more);
    } catch (e) {
      if (e?.name === 'AbortError') return;
      replace(results, errorBox(e instanceof ApiError ? e : new Error(String(e))));
    }
  }

  let rows = [];
  function showPage(page, filters, idNumber, more) {
    rows = more ? rows.concat(page.items) : page.items;
    const columns = [
      { label: t('case.id'), cell: (c) => caseLink(c.caseId) },
      { label: t('case.applicant'), cell: (c) => c.applicantName },
      { label: t('case.item'), cell: (c) => c.itemName },
      { label: t('case.stage'), cell: (c) => label('stage', c.stage) },
      { label: t('case.status'), cell: (c) => statusBadge(c) },
      { label: t('case.sla'), cell: (c) => slaBadge(c.slaState) },
      { label: t('case.dueDate'), cell: (c) => c.dueDate ?? '—' },
      {
        label: t('case.sides'),
        cell: (c) => {
          const on = sidesOf(ctx.staff, c);
          return h(
            'span',
            { class: 'sides' },
            h('span', { class: on.receiving ? 'mine' : null, title: t('side.receiving') }, regionText(c.receivingRegion)),
            ' → ',
            h('span', { class: on.handling ? 'mine' : null, title: t('side.handling') }, regionText(c.handlingRegion)),
          );
        },
      },
      { label: t('case.submittedAt'), cell: (c) => formatDateTime(c.submittedAt) },
    ];
    replace(
      results,
      h('p', { class: 'count' }, t('search.count', { n: rows.length })),
      table(columns, rows, { empty: t('search.none'), rowData: (c) => ({ caseId: c.caseId }) }),
      page.nextCursor ? h('button', { type: 'button', onclick: () => load(filters, idNumber, page.nextCursor, true) }, t('common.more')) : null,
    );
  }

  // Open the console on the filters in the address, or on the most recent cases.
  const initial = {};
  for (const key of FILTERS) if (q.get(key)) initial[key] = q.get(key);
  load(initial, '', null, false);

  return {
    el: h('div', { class: 'page page-search' }, h('h1', {}, t('search.title')), form, results),
    title: t('search.title'),
    dispose: () => controller.abort(),
  };
}
