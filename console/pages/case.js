// The case page (/console/cases/<id>): where the case stands (stage progress, status, SLA), what
// happened (the timeline of domain events with who did what and when), its materials and
// supplements with their SHA-256, correction rounds, consultations and liaison messages, the
// hand-off ledger, the deadlines with their derivation, the audit log for supervisors, the
// workflow in the Temporal Web UI, and the actions panel with the four-eyes approvals.
import { get, post, uploadFile } from '../api.js';
import { field, h, replace, section, table } from '../dom.js';
import { label, t } from '../i18n.js';
import { CASE_ROLES, appConfigOf, errorBox, formatDateTime, loading, mayDo, notice, regionText, sidesOf, slaBadge, statusBadge } from '../ui.js';
import { STAGES } from './search.js';

const PREVIEWED = new Set(['record-offline', 'reroute']);
const isOpen = (c) => c.status === 'active' || c.status === 'awaiting_supplement';

/**
 * The actions panel: each action, the policy rule it answers to (domain/policy.ts, served in
 * /console/config.json) and, for a rule the table does not have, who the page offers it to.
 */
export const ACTIONS = [
  { action: 'retry', policy: 'case.retry', fields: [], fits: (c) => isOpen(c) && c.needsIntervention },
  { action: 'record-offline', policy: 'case.recordOffline', fallback: { roles: CASE_ROLES, side: 'either' }, fields: ['step', 'evidence', 'provinceCaseId'], fits: (c) => isOpen(c) && Boolean(c.intervention) },
  { action: 'reroute', policy: 'case.reroute', fallback: { roles: ['clerk', 'supervisor'], side: 'receiving' }, fields: ['handlingRegion'], fits: (c) => isOpen(c) && REROUTABLE_STAGES.includes(c.stage) },
  { action: 'extend', policy: 'case.extend', fields: ['days'], fits: isOpen },
  { action: 'withdraw', policy: 'case.withdraw', fields: [], fits: isOpen },
  { action: 'reassign', policy: 'case.reassign', fallback: { roles: CASE_ROLES, side: 'either' }, fields: ['assignee'], fits: isOpen },
  { action: 'note', policy: 'case.note', fallback: { roles: CASE_ROLES, side: 'either' }, fields: [], fits: () => true },
];

/** The stages before the handling authority has the materials: the only ones a reroute fits (domain/staffActions.ts). */
const REROUTABLE_STAGES = ['intake', 'precheck', 'correction', 'transfer'];
/** Who decides a four-eyes request (domain/policy.ts), on the request's side. */
const DECIDE_POLICY = { reroute: 'case.approveReroute', 'record-offline': 'case.approveOffline' };


export function render(ctx) {
  const caseId = ctx.params[0].toLowerCase();
  const controller = new AbortController();
  const signal = controller.signal;
  const root = h('div', { class: 'page page-case', 'data-testid': 'case-page', dataset: { caseId } }, loading());
  const slots = {
    head: h('div', { class: 'case-head' }),
    progress: h('div', {}),
    actions: h('div', {}),
    approvals: h('div', { 'data-testid': 'approvals' }),
    notes: h('div', { 'data-testid': 'notes' }),
    deadlines: h('div', {}),
    participants: h('div', {}),
    timeline: h('div', {}),
    materials: h('div', {}),
    corrections: h('div', {}),
    consultations: h('div', {}),
    messages: h('div', {}),
    handoffs: h('div', {}),
    accessLog: h('div', {}),
  };
  let detail = null;
  const actionResult = h('div', { class: 'action-result', 'data-testid': 'action-result', 'aria-live': 'polite' });

  async function load() {
    try {
      detail = await get(`/v1/cases/${caseId}`, { signal });
    } catch (e) {
      if (e?.name === 'AbortError') return;
      replace(root, h('h1', {}, t('case.title')), errorBox(e));
      return;
    }
    if (!root.querySelector('.case-head')) {
      replace(
        root,
        slots.head,
        slots.progress,
        section(t('actions.title'), slots.actions, actionResult),
        section(t('approvals.title'), slots.approvals),
        section(t('notes.title'), slots.notes),
        section(t('deadlines.title'), slots.deadlines),
        slots.participants,
        section(t('timeline.title'), slots.timeline),
        section(t('materials.title'), slots.materials),
        section(t('corrections.title'), slots.corrections),
        section(t('consultations.title'), slots.consultations),
        section(t('messages.title'), slots.messages),
        section(t('handoffs.title'), slots.handoffs),
        slots.accessLog,
      );
    }
    showHead(detail);
    showProgress(detail);
    showActions(detail);
    showParticipants(detail);
    showTimeline(detail);
    showMaterials(detail);
    showCorrections(detail);
    showConsultations(detail);
    showAccessLog(detail);
    loadInto(slots.approvals, () => get(`/v1/cases/${caseId}/approvals`, { signal }), showApprovals);
    loadInto(slots.notes, () => get(`/v1/cases/${caseId}/notes`, { signal }), showNotes);
    loadInto(slots.deadlines, () => get(`/v1/cases/${caseId}/deadlines`, { signal }), showDeadlines);
    loadInto(slots.messages, () => get(`/v1/cases/${caseId}/messages`, { signal }), showMessages);
    loadInto(slots.handoffs, () => get(`/v1/cases/${caseId}/handoffs`, { signal }), showHandoffs);
  }

  /** Each block loads on its own: one failing (a 422 past the calendar data) leaves the rest. */
  async function loadInto(slot, read, show) {
    if (!slot.firstChild) replace(slot, loading());
    try {
      const data = await read();
      replace(slot, show(data));
    } catch (e) {
      if (e?.name === 'AbortError') return;
      replace(slot, errorBox(e));
    }
  }

  function showHead(c) {
    const temporalUi = appConfigOf().temporalUi;
    const on = sidesOf(ctx.staff, c);
    replace(
      slots.head,
      h('h1', {}, c.itemName, ' ', h('small', { class: 'mono', 'data-testid': 'case-id' }, c.caseId)),
      h(
        'dl',
        { class: 'facts' },
        fact(t('case.stage'), h('span', { 'data-testid': 'case-stage' }, label('stage', c.stage))),
        fact(t('case.status'), h('span', { 'data-testid': 'case-status' }, statusBadge(c))),
        fact(t('case.sla'), slaBadge(c.slaState)),
        fact(t('case.applicant'), `${c.applicant.name} · ${c.applicant.idNumber}`),
        fact(t('side.receiving'), h('span', { class: on.receiving ? 'mine' : null }, regionText(c.receivingRegion))),
        fact(t('side.handling'), h('span', { class: on.handling ? 'mine' : null }, regionText(c.handlingRegion))),
        fact(t('case.channel'), label('channel', c.channel)),
        fact(t('case.submittedAt'), formatDateTime(c.submittedAt)),
        fact(t('case.dueDate'), c.dueDate ?? '—'),
        fact(t('case.statutoryDueDate'), c.statutoryDueDate ?? '—'),
        fact(t('case.provinceCaseId'), c.provinceCaseId ?? '—'),
        fact(t('case.queryCode'), c.receipt?.queryCode ?? '—'),
      ),
      c.intervention
        ? h(
            'div',
            { class: 'notice notice-warn', 'data-testid': 'intervention' },
            h('strong', {}, t('case.intervention')),
            ` ${c.intervention.step}`,
            c.intervention.kind ? ` (${label('interventionKind', c.intervention.kind)})` : '',
            h('div', {}, c.intervention.reason ?? c.intervention.error),
            h('small', {}, t('case.since', { at: formatDateTime(c.intervention.since) })),
          )
        : null,
      temporalUi
        ? h('p', {}, h('a', { href: `${temporalUi.url}/namespaces/${encodeURIComponent(temporalUi.namespace)}/workflows/${encodeURIComponent(`case:${c.caseId}`)}`, target: '_blank', rel: 'noopener noreferrer' }, t('case.temporalLink')))
        : null,
    );
  }

  function showProgress(c) {
    const at = STAGES.indexOf(c.stage);
    const ended = !isOpen(c) && c.status !== 'completed';
    replace(
      slots.progress,
      h(
        'ol',
        { class: 'stages', 'aria-label': t('case.progress') },
        STAGES.map((s, i) =>
          h(
            'li',
            {
              class: [
                i < at ? 'done' : null,
                i === at ? (ended ? 'current ended' : 'current') : null,
                // A case without a correction notice went past that stage without stopping.
                s === 'correction' && i < at && c.correctionRounds.receiving + c.correctionRounds.handling === 0 ? 'skipped' : null,
              ],
              'aria-current': i === at ? 'step' : null,
            },
            label('stage', s),
          ),
        ),
      ),
    );
  }

  function showActions(c) {
    const offered = ACTIONS.filter((a) => a.fits(c) && mayDo(ctx.staff, a.policy, c, a.fallback));
    if (offered.length === 0) return replace(slots.actions, h('p', { class: 'muted' }, t('actions.none')));
    const formSlot = h('div', { class: 'action-form' });
    replace(
      slots.actions,
      h(
        'div',
        { class: 'action-buttons' },
        offered.map((a) => h('button', { type: 'button', 'data-action': a.action, onclick: () => { replace(actionResult); replace(formSlot, actionForm(c, a)); formSlot.querySelector('textarea,input')?.focus(); } }, label('action', a.action))),
      ),
      formSlot,
    );
  }

  function actionForm(c, def) {
    const needsPreview = PREVIEWED.has(def.action);
    const status = h('div', { class: 'form-status' });
    const previewSlot = h('div', { class: 'preview', 'data-testid': 'preview' });
    let uploaded = null;
    const inputs = {
      step: () => field(t('actions.step'), h('input', { name: 'step', required: true, value: c.intervention?.step ?? '' })),
      evidence: () => field(t('actions.evidence'), h('input', { name: 'evidence', type: 'file', required: true, accept: '.pdf,.jpg,.jpeg,.png,.ofd,application/pdf,image/jpeg,image/png' }), t('actions.evidenceHint')),
      provinceCaseId: () => field(t('actions.provinceCaseId'), h('input', { name: 'provinceCaseId', value: c.provinceCaseId ?? '' })),
      handlingRegion: () => field(t('actions.handlingRegion'), h('input', { name: 'handlingRegion', required: true, inputmode: 'numeric', pattern: '\\d{6}', maxlength: '6' })),
      days: () => field(t('actions.days'), h('input', { name: 'days', type: 'number', min: '1', max: '60', required: true })),
      assignee: () => field(t('actions.assignee'), h('input', { name: 'assignee', required: true, autocomplete: 'off' })),
    };
    const confirm = h('button', { type: 'button', class: 'primary', 'data-testid': 'confirm-action', hidden: needsPreview, onclick: () => send() }, needsPreview ? t('actions.confirmForApproval') : t('actions.confirm'));
    const form = h(
      'form',
      { class: 'card', 'data-testid': `form-${def.action}`, onsubmit: (e) => { e.preventDefault(); if (needsPreview) preview(); else send(); }, oninput: () => { if (needsPreview) { confirm.hidden = true; replace(previewSlot); } } },
      h('h3', {}, label('action', def.action)),
      h('p', { class: 'muted' }, t(`actionHelp.${def.action}`)),
      def.fields.map((f) => inputs[f]()),
      field(def.action === 'note' ? t('actions.noteText') : t('actions.reason'), h('textarea', { name: 'reason', required: true, minlength: '2', maxlength: '500', rows: '3' })),
      previewSlot,
      h('div', { class: 'actions' }, needsPreview ? h('button', { type: 'submit', 'data-testid': 'preview-action' }, t('actions.preview')) : null, confirm),
      status,
    );

    async function bodyOf() {
      const data = new FormData(form);
      const body = { reason: String(data.get('reason') ?? '').trim() };
      if (def.fields.includes('step')) body.step = String(data.get('step')).trim();
      if (def.fields.includes('provinceCaseId') && String(data.get('provinceCaseId') ?? '').trim()) body.provinceCaseId = String(data.get('provinceCaseId')).trim();
      if (def.fields.includes('handlingRegion')) body.handlingRegion = String(data.get('handlingRegion')).trim();
      if (def.fields.includes('days')) body.days = Number(data.get('days'));
      if (def.fields.includes('assignee')) body.assignee = String(data.get('assignee')).trim();
      if (def.fields.includes('evidence')) {
        const file = form.elements.namedItem('evidence').files[0];
        if (!uploaded || uploaded.file !== file) {
          replace(status, t('actions.uploading'));
          uploaded = { file, result: await uploadFile(file) };
        }
        body.evidenceFileId = uploaded.result.fileId;
      }
      return body;
    }

    async function preview() {
      if (!form.reportValidity()) return;
      replace(status, t('common.working'));
      try {
        const { data } = await post(`/v1/cases/${c.caseId}/actions/${def.action}/preview`, await bodyOf());
        replace(previewSlot, effectsView(data.effects));
        confirm.hidden = false;
        replace(status);
      } catch (e) {
        replace(status, errorBox(e));
      }
    }

    async function send() {
      if (!form.reportValidity()) return;
      confirm.disabled = true;
      replace(status, t('common.working'));
      try {
        const { status: code, data } = await post(`/v1/cases/${c.caseId}/actions/${def.action}`, await bodyOf());
        form.remove();
        if (code === 202) replace(actionResult, notice(t('actions.sentForApproval', { id: data.approvalId }), 'ok'));
        else replace(actionResult, notice(t('actions.done', { action: label('action', def.action), stage: label('stage', data.stage), status: label('status', data.status) }), 'ok'));
        await load();
      } catch (e) {
        confirm.disabled = false;
        replace(status, errorBox(e));
      }
    }
    return form;
  }

  function showApprovals({ items }) {
    if (items.length === 0) return h('p', { class: 'muted' }, t('approvals.none'));
    return h(
      'div',
      {},
      items.map((a) =>
        h(
          'div',
          { class: ['card', 'approval', `approval-${a.status}`], 'data-testid': 'approval', dataset: { approvalId: a.approvalId, status: a.status } },
          h('h3', {}, label('action', a.action), ' ', h('span', { class: `badge approval-status-${a.status}` }, label('approvalStatus', a.status))),
          h(
            'dl',
            { class: 'facts' },
            fact(t('approvals.id'), h('span', { class: 'mono' }, a.approvalId)),
            fact(t('approvals.requestedBy'), a.requestedBy),
            fact(t('approvals.at'), formatDateTime(a.requestedAt)),
            fact(t('actions.reason'), a.reason),
            Object.entries(a.params ?? {})
              .filter(([k]) => k !== 'reason')
              .map(([k, v]) => fact(label('param', k), paramText(k, v))),
            a.decidedBy ? fact(t('approvals.decidedBy'), `${a.decidedBy} · ${formatDateTime(a.decidedAt)}${a.decisionReason ? ` · ${a.decisionReason}` : ''}`) : null,
            a.failure ? fact(t('approvals.failure'), a.failure) : null,
          ),
          a.effects ? effectsView(a.effects) : null,
          a.status === 'pending' ? decideForm(a) : null,
        ),
      ),
    );
  }

  function showNotes({ notes, assignees }) {
    return h(
      'div',
      {},
      h(
        'p',
        { 'data-testid': 'assignees' },
        ['receiving', 'handling'].map((side) => {
          const a = assignees.find((x) => x.side === side);
          return h('span', { class: 'assignee' }, `${label('side', side)}：`, a ? t('notes.assignee', { who: a.assignee, by: a.assignedBy, at: formatDateTime(a.assignedAt) }) : t('notes.unassigned'));
        }),
      ),
      notes.length
        ? h(
            'ol',
            { class: 'messages' },
            [...notes].reverse().map((n) =>
              h('li', { class: 'card' }, h('div', { class: 'message-head' }, `${n.author} · ${label('role', n.role)} · ${label('side', n.side)} · ${formatDateTime(n.createdAt)}`), h('p', { class: 'message-body' }, n.text)),
            ),
          )
        : h('p', { class: 'muted' }, t('notes.none')),
    );
  }

  function decideForm(a) {
    if (a.requestedBy === ctx.staff.sub) return h('p', { class: 'muted' }, t('approvals.ownRequest'));
    // A supervisor of the request's side decides (the API says why to anyone else).
    const rule = appConfigOf().policy?.[DECIDE_POLICY[a.action]];
    const on = sidesOf(ctx.staff, detail);
    if (!rule?.roles.includes(ctx.staff.role) || !(a.side === 'receiving' ? on.receiving : on.handling)) {
      return h('p', { class: 'muted' }, t('approvals.decidedBySide', { side: label('side', a.side) }));
    }
    const status = h('div', { class: 'form-status' });
    const reason = h('textarea', { name: 'reason', required: true, minlength: '2', maxlength: '1000', rows: '2' });
    const decide = async (approve) => {
      if (!reason.reportValidity()) return;
      replace(status, t('common.working'));
      try {
        const { data } = await post(`/v1/cases/${caseId}/approvals/${a.approvalId}`, { approve, reason: reason.value.trim() });
        replace(actionResult, notice(t(approve ? 'approvals.approvedNotice' : 'approvals.refusedNotice', { id: data.approvalId ?? a.approvalId }), 'ok'));
        await load();
      } catch (e) {
        replace(status, errorBox(e));
      }
    };
    return h(
      'form',
      { class: 'decide', onsubmit: (e) => e.preventDefault() },
      field(t('approvals.decisionReason'), reason),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', 'data-testid': 'approve', onclick: () => decide(true) }, t('approvals.approve')), h('button', { type: 'button', class: 'danger', 'data-testid': 'refuse', onclick: () => decide(false) }, t('approvals.refuse'))),
      status,
    );
  }

  function showDeadlines(d) {
    if (!d.started) return h('p', { class: 'muted' }, t('deadlines.notStarted'));
    const limits = [
      ['promised', d.promised],
      ['statutory', d.statutory],
      ['delivery', d.delivery],
    ].filter(([, r]) => r);
    return h(
      'div',
      {},
      h('p', { class: 'muted' }, t('deadlines.asOf', { at: formatDateTime(d.asOf) })),
      d.calendarGap ? notice(d.calendarGap, 'warn') : null,
      h(
        'div',
        { class: 'cards' },
        limits.map(([name, r]) =>
          h(
            'div',
            { class: 'card limit', 'data-testid': `deadline-${name}` },
            h('h3', {}, t(`deadlines.${name}`), ' ', slaBadge(r.state)),
            h(
              'dl',
              { class: 'facts' },
              fact(t('deadlines.dueDate'), r.dueDate ?? t('deadlines.paused')),
              fact(t('deadlines.limitDays'), r.extendedBy ? `${r.limitDays} (+${r.extendedBy})` : String(r.limitDays)),
              fact(t('deadlines.used'), String(r.used)),
              fact(t('deadlines.pausedDays'), String(r.paused)),
              fact(t('deadlines.remaining'), h('strong', {}, String(r.remaining))),
              r.stopped ? fact(t('deadlines.stopped'), t('common.yes')) : null,
            ),
            h(
              'details',
              {},
              h('summary', {}, t('deadlines.derivation')),
              h(
                'ul',
                { class: 'derivation' },
                h('li', {}, t('deadlines.start', { date: r.derivation.start, days: r.derivation.limitDays })),
                r.derivation.extensions.map((x) => h('li', {}, t('deadlines.extension', { days: x.days, on: x.approvedOn, reason: x.reason }))),
                r.derivation.pauses.map((p) => h('li', {}, t('deadlines.pause', { kind: label('pauseKind', p.kind), from: p.from, to: p.to ?? '…', days: p.workingDays, reason: p.reason }))),
                h('li', {}, t('deadlines.weekends', { n: r.derivation.weekendDays })),
                r.derivation.holidays.length ? h('li', {}, t('deadlines.holidays'), ' ', r.derivation.holidays.map((x) => `${x.date} ${x.name}`).join('、')) : null,
                r.derivation.adjustedWorkingDays.length ? h('li', {}, t('deadlines.adjusted'), ' ', r.derivation.adjustedWorkingDays.join('、')) : null,
              ),
            ),
          ),
        ),
      ),
    );
  }

  function showParticipants(c) {
    if (!c.participants) return replace(slots.participants);
    replace(
      slots.participants,
      section(
        t('participants.title'),
        table(
          [
            { label: t('participants.key'), cell: (p) => p.key },
            { label: t('participants.role'), cell: (p) => p.role },
            { label: t('participants.region'), cell: (p) => regionText(p.regionCode) },
            { label: t('participants.step'), cell: (p) => String(p.step) },
            { label: t('case.status'), cell: (p) => p.status },
            { label: t('case.dueDate'), cell: (p) => h('span', { class: p.overdue ? 'overdue' : null }, p.dueDate ?? '—') },
            { label: t('participants.decidedAt'), cell: (p) => formatDateTime(p.decidedAt) },
            { label: t('case.provinceCaseId'), cell: (p) => p.provinceCaseId ?? '—' },
          ],
          c.participants,
        ),
      ),
    );
  }

  function showTimeline(c) {
    const events = [...c.timeline].sort((a, b) => b.seq - a.seq);
    replace(
      slots.timeline,
      table(
        [
          { label: '#', cell: (e) => String(e.seq), class: 'num' },
          { label: t('timeline.at'), cell: (e) => formatDateTime(e.at) },
          { label: t('timeline.event'), cell: (e) => h('span', { title: e.type }, label('event', e.type)) },
          { label: t('case.stage'), cell: (e) => label('stage', e.stage) },
          { label: t('timeline.actor'), cell: (e) => e.actor },
          { label: t('timeline.data'), cell: (e) => (Object.keys(e.data ?? {}).length ? h('details', {}, h('summary', {}, t('timeline.show')), h('pre', {}, JSON.stringify(e.data, null, 2))) : '') },
        ],
        events,
        { class: 'timeline', rowData: (e) => ({ type: e.type }) },
      ),
    );
  }

  function showMaterials(c) {
    const supplements = c.timeline
      .filter((e) => e.type === 'correction.supplemented')
      .flatMap((e) => (e.data.items ?? []).map((item) => ({ ...item, noticeId: e.data.noticeId, round: e.data.round, side: e.data.side, at: e.at })));
    const fetched = c.timeline.filter((e) => e.type === 'material.fetched').map((e) => ({ ...e.data, at: e.at }));
    replace(
      slots.materials,
      table(
        [
          { label: t('materials.code'), cell: (m) => m.materialCode },
          { label: 'SHA-256', cell: (m) => h('code', { class: 'hash' }, m.sha256), class: 'hash-cell' },
          { label: t('materials.size'), cell: (m) => formatBytes(m.size), class: 'num' },
          { label: t('materials.type'), cell: (m) => m.contentType },
          { label: t('materials.transferredAt'), cell: (m) => formatDateTime(m.transferredAt) },
        ],
        c.materials,
      ),
      fetched.length ? h('h3', {}, t('materials.fetched')) : null,
      fetched.length
        ? table(
            [
              { label: t('materials.code'), cell: (m) => m.materialCode },
              { label: t('materials.source'), cell: (m) => `${m.source} · ${m.issuer}` },
              { label: 'SHA-256', cell: (m) => h('code', { class: 'hash' }, m.sha256), class: 'hash-cell' },
              { label: t('timeline.at'), cell: (m) => formatDateTime(m.at) },
            ],
            fetched,
          )
        : null,
      h('h3', {}, t('materials.supplements')),
      table(
        [
          { label: t('corrections.notice'), cell: (s) => `${label('side', s.side)} · ${t('corrections.round', { n: s.round })}` },
          { label: t('materials.code'), cell: (s) => s.materialCode },
          { label: 'SHA-256', cell: (s) => h('code', { class: 'hash' }, s.sha256), class: 'hash-cell' },
          { label: t('materials.size'), cell: (s) => formatBytes(s.size), class: 'num' },
          { label: t('timeline.at'), cell: (s) => formatDateTime(s.at) },
        ],
        supplements,
        { empty: t('materials.noSupplements') },
      ),
    );
  }

  function showCorrections(c) {
    const notices = c.timeline.filter((e) => e.type === 'correction.notice_issued');
    replace(
      slots.corrections,
      h('p', {}, t('corrections.rounds', { receiving: c.correctionRounds.receiving, handling: c.correctionRounds.handling })),
      c.correction ? h('div', { class: 'notice notice-warn' }, h('strong', {}, t('corrections.open')), ' ', c.correction.supplementDue ? t('corrections.due', { date: c.correction.supplementDue }) : '') : null,
      notices.length
        ? notices.map((e) =>
            h(
              'div',
              { class: 'card' },
              h('h3', {}, `${label('side', e.data.side)} · ${t('corrections.round', { n: e.data.round })} · ${formatDateTime(e.at)}`),
              h('ul', {}, (e.data.deficiencies ?? []).map((d) => h('li', {}, h('strong', {}, d.materialCode), `: ${d.problem} → ${d.needed}`))),
            ),
          )
        : h('p', { class: 'muted' }, t('corrections.none')),
    );
  }

  function showConsultations(c) {
    replace(
      slots.consultations,
      table(
        [
          { label: t('consultations.topic'), cell: (x) => x.topic },
          { label: t('case.status'), cell: (x) => label('consultationStatus', x.status) },
          { label: t('consultations.startsAt'), cell: (x) => formatDateTime(x.startsAt) },
          { label: t('consultations.requestedBy'), cell: (x) => `${x.requestedBy} · ${formatDateTime(x.requestedAt)}` },
          { label: t('consultations.outcome'), cell: (x) => (x.outcome ? `${x.outcome.agreed} · ${x.outcome.minutes}` : (x.failure ?? '—')) },
        ],
        c.consultations,
        { empty: t('consultations.none') },
      ),
    );
  }

  function showMessages({ messages }) {
    if (messages.length === 0) return h('p', { class: 'muted' }, t('messages.none'));
    return h(
      'ol',
      { class: 'messages' },
      messages.map((m) =>
        h(
          'li',
          { class: ['card', m.overdue ? 'overdue' : null] },
          h('div', { class: 'message-head' }, `${label('side', m.from)} → ${label('side', m.to)} · ${m.author} · ${formatDateTime(m.sentAt)}`),
          h('p', { class: 'message-body' }, m.body),
          m.files.length ? h('ul', {}, m.files.map((f) => h('li', {}, h('code', { class: 'hash' }, f.sha256), ` ${formatBytes(f.size)} ${f.contentType}`))) : null,
          h('small', {}, m.acknowledgedAt ? t('messages.acknowledged', { by: m.acknowledgedBy ?? '', at: formatDateTime(m.acknowledgedAt) }) : m.overdue ? t('messages.overdue') : t('messages.waiting')),
        ),
      ),
    );
  }

  function showHandoffs(l) {
    return h(
      'div',
      {},
      l.chain.ok
        ? notice(t('handoffs.chainOk', { n: l.chain.length, head: l.chain.headHash.slice(0, 16) }), 'ok')
        : notice(t('handoffs.chainBad', { seq: l.chain.firstBadSeq ?? '?', problem: l.chain.problem ?? '' }), 'error'),
      h(
        'dl',
        { class: 'facts' },
        ['receiving', 'handling', 'applicant', 'post'].map((p) => fact(t('handoffs.daysHeld', { party: label('party', p) }), String(l.workingDaysBySide[p]))),
      ),
      l.calendarGap ? notice(l.calendarGap, 'warn') : null,
      h('h3', {}, t('handoffs.custody')),
      table(
        [
          { label: t('handoffs.holder'), cell: (x) => label('party', x.holder) },
          { label: t('handoffs.from'), cell: (x) => formatDateTime(x.from) },
          { label: t('handoffs.to'), cell: (x) => formatDateTime(x.to) },
          { label: t('handoffs.workingDays'), cell: (x) => (x.workingDays === null ? '—' : String(x.workingDays)), class: 'num' },
        ],
        l.custody,
      ),
      h('h3', {}, t('handoffs.entries')),
      table(
        [
          { label: '#', cell: (e) => String(e.seq), class: 'num' },
          { label: t('handoffs.kind'), cell: (e) => e.kind },
          { label: t('handoffs.ref'), cell: (e) => e.ref },
          { label: t('handoffs.direction'), cell: (e) => `${label('party', e.from)} → ${label('party', e.to)}` },
          { label: t('handoffs.sentAt'), cell: (e) => formatDateTime(e.sentAt) },
          { label: t('handoffs.ackAt'), cell: (e) => formatDateTime(e.acknowledgedAt) },
          { label: t('handoffs.hash'), cell: (e) => h('code', { class: 'hash', title: e.entryHash }, e.entryHash.slice(0, 16)) },
        ],
        l.entries,
        { empty: t('handoffs.none') },
      ),
    );
  }

  function showAccessLog(c) {
    if (!mayDo(ctx.staff, 'case.readAccessLog', c)) return replace(slots.accessLog);
    const body = h('div', {});
    let rows = [];
    const more = async (cursor) => {
      try {
        const page = await get(`/v1/cases/${caseId}/access-log?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { signal });
        rows = rows.concat(page.items);
        replace(
          body,
          table(
            [
              { label: t('timeline.at'), cell: (r) => formatDateTime(r.at) },
              { label: t('accessLog.actor'), cell: (r) => `${r.actor} · ${label('role', r.role)} · ${r.region}` },
              { label: t('accessLog.action'), cell: (r) => r.action },
              { label: t('actions.reason'), cell: (r) => r.reason ?? '' },
              { label: t('timeline.data'), cell: (r) => h('code', {}, JSON.stringify(r.detail)) },
            ],
            rows,
          ),
          page.nextCursor ? h('button', { type: 'button', onclick: () => more(page.nextCursor) }, t('common.more')) : null,
        );
      } catch (e) {
        if (e?.name !== 'AbortError') replace(body, errorBox(e));
      }
    };
    replace(
      slots.accessLog,
      section(t('accessLog.title'), h('p', { class: 'muted' }, t('accessLog.help')), h('button', { type: 'button', 'data-testid': 'show-access-log', onclick: (e) => { e.target.remove(); more(null); } }, t('accessLog.show')), body),
    );
  }

  load();
  return { el: root, title: t('case.title'), dispose: () => controller.abort() };
}

/** What an action will do (the preview endpoint's `effects`): a summary, each deadline before → after, and the other office. */
export function effectsView(effects) {
  if (!effects) return null;
  return h(
    'div',
    { class: 'effects', 'data-testid': 'effects' },
    h('h4', {}, t('effects.title')),
    h('p', {}, effects.summary),
    effects.deadlines?.length
      ? table(
          [
            { label: t('effects.limit'), cell: (d) => label('limit', d.limit) },
            { label: t('effects.before'), cell: (d) => d.before ?? '—' },
            { label: t('effects.after'), cell: (d) => d.after ?? '—' },
            { label: t('effects.note'), cell: (d) => d.note ?? '' },
          ],
          effects.deadlines,
        )
      : null,
    effects.otherOffice ? h('p', {}, h('strong', {}, t('effects.otherOffice')), ' ', effects.otherOffice) : null,
  );
}

/** A request's parameter as staff read it: a region with its province, the evidence by its hash. */
function paramText(key, value) {
  if (value && typeof value === 'object' && typeof value.sha256 === 'string') return h('span', {}, `${value.contentType ?? ''} ${formatBytes(value.size)} · SHA-256 `, h('code', { class: 'hash' }, value.sha256));
  if ((key === 'from' || key === 'handlingRegion') && typeof value === 'string') return regionText(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)];
}

function formatBytes(n) {
  if (typeof n !== 'number') return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

