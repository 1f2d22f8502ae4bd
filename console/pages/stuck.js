// The stuck queue (/console/stuck): every case of the staff member's region that waits for a
// person, most overdue first, each reason with since when and its detail (the last error and
// attempts for an intervention). Live over server-sent events (GET /v1/cases/stuck/events; the
// browser sends the session cookie). Select cases, or all of one reason (a province that was down),
// and retry them together with one reason, with the bulk job's progress. Below, the approvals
// waiting for this staff member's decision.
import { get, me, post, query } from '../api.js';
import { field, h, replace, select, table } from '../dom.js';
import { label, t } from '../i18n.js';
import { ago, appConfigOf, caseLink, errorBox, formatDateTime, loading, notice, regionText, slaBadge } from '../ui.js';
import { STUCK_REASONS } from './search.js';

const BULK_POLL_MS = 1000;
const RECONNECT_MS = 3000;

export function render(ctx) {
  const controller = new AbortController();
  let reason = ctx.query.get('reason') ?? '';
  let all = [];
  const selected = new Set();
  let source = null;
  let pollTimer = null;
  let reconnectTimer = null;

  const live = h('span', { class: 'live', 'data-testid': 'live-state' }, t('stuck.connecting'));
  const counts = h('div', { class: 'reason-counts' });
  const list = h('div', { 'data-testid': 'stuck-list' }, loading());
  const bulkSlot = h('div', { class: 'bulk', 'data-testid': 'bulk' });
  const waiting = h('div', { 'data-testid': 'waiting-approvals' });
  const selectedCount = h('span', { 'data-testid': 'selected-count' });

  const reasonSelect = select(
    {
      name: 'reason',
      'data-testid': 'reason-filter',
      onchange: (e) => {
        reason = e.target.value;
        history.replaceState(null, '', `/console/stuck${query({ reason })}`);
        selected.clear();
        show();
      },
    },
    [['', t('stuck.allReasons')], ...STUCK_REASONS.map((r) => [r, label('reason', r)])],
    reason,
  );

  const bulkReason = h('textarea', { name: 'bulkReason', rows: '2', minlength: '2', maxlength: '500', required: true, 'data-testid': 'bulk-reason' });
  const bulkButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'bulk-retry' }, t('stuck.bulkRetry'));
  const bulkForm = h(
    'form',
    { class: 'card', onsubmit: (e) => { e.preventDefault(); bulkRetry(); } },
    h('h3', {}, t('stuck.bulkTitle'), ' ', selectedCount),
    field(t('actions.reason'), bulkReason),
    h('div', { class: 'actions' }, bulkButton),
    bulkSlot,
  );

  const visible = () => (reason ? all.filter((c) => c.stuck.some((r) => r.reason === reason)) : all);

  function show() {
    const rows = visible();
    for (const id of [...selected]) if (!rows.some((c) => c.caseId === id)) selected.delete(id);
    const byReason = new Map();
    for (const c of all) for (const r of c.stuck) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
    replace(counts, [...byReason.entries()].map(([r, n]) => h('span', { class: 'chip' }, `${label('reason', r)} ${n}`)));
    const allBox = h('input', {
      type: 'checkbox',
      'data-testid': 'select-all',
      'aria-label': t('stuck.selectAll'),
      checked: rows.length > 0 && rows.every((c) => selected.has(c.caseId)),
      onchange: (e) => {
        for (const c of rows) {
          if (e.target.checked) selected.add(c.caseId);
          else selected.delete(c.caseId);
        }
        show();
      },
    });
    replace(
      list,
      table(
        [
          {
            label: allBox,
            cell: (c) =>
              h('input', {
                type: 'checkbox',
                'aria-label': c.caseId,
                checked: selected.has(c.caseId),
                onchange: (e) => {
                  if (e.target.checked) selected.add(c.caseId);
                  else selected.delete(c.caseId);
                  updateSelected();
                },
              }),
          },
          { label: t('case.id'), cell: (c) => caseLink(c.caseId) },
          { label: t('case.item'), cell: (c) => c.itemName },
          { label: t('case.stage'), cell: (c) => label('stage', c.stage) },
          { label: t('case.sides'), cell: (c) => `${regionText(c.receivingRegion)} → ${regionText(c.handlingRegion)}` },
          {
            label: t('stuck.reasons'),
            cell: (c) =>
              h(
                'ul',
                { class: 'reasons' },
                c.stuck.map((r) => h('li', {}, h('span', { class: `badge reason-${r.reason}` }, label('reason', r.reason)), ' ', h('small', {}, t('stuck.since', { at: formatDateTime(r.since), ago: ago(r.since) })), h('div', { class: 'detail' }, r.detail))),
              ),
          },
          { label: t('case.sla'), cell: (c) => slaBadge(c.slaState) },
          { label: t('stuck.waiting'), cell: (c) => ago(c.stuckSince) },
        ],
        rows,
        { empty: t('stuck.none'), rowData: (c) => ({ caseId: c.caseId }) },
      ),
    );
    updateSelected();
  }

  function updateSelected() {
    replace(selectedCount, t('stuck.selected', { n: selected.size }));
    bulkButton.disabled = selected.size === 0;
  }

  async function bulkRetry() {
    if (selected.size === 0 || !bulkForm.reportValidity()) return;
    bulkButton.disabled = true;
    replace(bulkSlot, t('common.working'));
    try {
      const { data } = await post('/v1/bulk/retry', { caseIds: [...selected], reason: bulkReason.value.trim() });
      pollBulk(data.bulkId, data.total);
    } catch (e) {
      bulkButton.disabled = false;
      replace(bulkSlot, errorBox(e));
    }
  }

  async function pollBulk(bulkId, total) {
    clearTimeout(pollTimer);
    let job;
    try {
      job = await get(`/v1/bulk/${encodeURIComponent(bulkId)}`, { signal: controller.signal });
    } catch (e) {
      if (e?.name === 'AbortError') return;
      replace(bulkSlot, errorBox(e));
      pollTimer = setTimeout(() => pollBulk(bulkId, total), BULK_POLL_MS * 3);
      return;
    }
    const finished = job.done + job.failed;
    const failed = job.items.filter((i) => i.status === 'failed');
    replace(
      bulkSlot,
      h('progress', { max: String(job.total || total || 1), value: String(finished), 'data-testid': 'bulk-progress' }),
      h('p', { 'data-testid': 'bulk-status', dataset: { pending: String(job.pending) } }, t('stuck.bulkProgress', { done: job.done, failed: job.failed, pending: job.pending, total: job.total })),
      failed.length ? table([{ label: t('case.id'), cell: (i) => caseLink(i.caseId) }, { label: t('stuck.failedDetail'), cell: (i) => `${i.httpStatus ? `${i.httpStatus} ` : ''}${i.detail ?? ''}` }], failed) : null,
    );
    if (job.pending > 0) pollTimer = setTimeout(() => pollBulk(bulkId, total), BULK_POLL_MS);
    else {
      selected.clear();
      bulkReason.value = '';
      bulkButton.disabled = false;
      bulkSlot.prepend(notice(t('stuck.bulkFinished', { done: job.done, failed: job.failed }), job.failed ? 'warn' : 'ok'));
    }
  }

  async function loadWaiting() {
    try {
      const { items } = await get('/v1/approvals?status=pending', { signal: controller.signal });
      replace(
        waiting,
        table(
          [
            { label: t('case.id'), cell: (a) => caseLink(a.caseId) },
            { label: t('approvals.action'), cell: (a) => label('action', a.action) },
            { label: t('approvals.requestedBy'), cell: (a) => a.requestedBy },
            { label: t('actions.reason'), cell: (a) => a.reason },
            { label: t('effects.title'), cell: (a) => a.effects?.summary ?? '' },
            { label: t('approvals.at'), cell: (a) => formatDateTime(a.requestedAt) },
          ],
          items,
          { empty: t('approvals.noneWaiting') },
        ),
      );
    } catch (e) {
      if (e?.name !== 'AbortError') replace(waiting, errorBox(e));
    }
  }

  async function loadOnce() {
    try {
      const { items } = await get(`/v1/cases${query({ stuck: 'true' })}`, { signal: controller.signal });
      // The stream may have answered first; its list is as fresh.
      if (!source || all.length === 0) {
        all = items;
        show();
      }
    } catch (e) {
      if (e?.name !== 'AbortError') replace(list, errorBox(e));
    }
  }

  function connect() {
    source = new EventSource('/v1/cases/stuck/events');
    source.addEventListener('open', () => replace(live, t('stuck.live')));
    source.addEventListener('stuck', (event) => {
      all = JSON.parse(event.data).items;
      live.dataset.updatedAt = new Date().toISOString();
      replace(live, t('stuck.liveUpdated', { at: formatDateTime(live.dataset.updatedAt) }));
      show();
    });
    source.addEventListener('unavailable', () => replace(live, t('stuck.unavailable')));
    source.addEventListener('error', () => {
      replace(live, t('stuck.reconnecting'));
      // EventSource reconnects by itself after a dropped connection, but not after an error status
      // (the session ended: 401): check the session (sign-in again if it ended), then reconnect.
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(reconnectTimer);
        reconnectTimer = setTimeout(() => me().then(() => !controller.signal.aborted && connect()), RECONNECT_MS);
      }
    });
  }

  // Supervisors decide four-eyes requests (domain/policy.ts); for anyone else the list is always empty.
  const policy = appConfigOf().policy ?? {};
  const decides = ['case.approveReroute', 'case.approveOffline'].some((k) => policy[k]?.roles.includes(ctx.staff.role));
  loadOnce();
  connect();
  if (decides) loadWaiting();

  const el = h(
    'div',
    { class: 'page page-stuck' },
    h('h1', {}, t('stuck.title'), ' ', live),
    h('div', { class: 'filters inline' }, field(t('search.reason'), reasonSelect), counts),
    list,
    bulkForm,
    decides ? h('section', { class: 'block' }, h('h2', {}, t('approvals.waitingTitle')), waiting) : null,
  );
  return {
    el,
    title: t('stuck.title'),
    dispose: () => {
      controller.abort();
      source?.close();
      clearTimeout(pollTimer);
      clearTimeout(reconnectTimer);
    },
  };
}
