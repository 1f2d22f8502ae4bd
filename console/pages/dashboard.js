// The managers' dashboard (/console/dashboard, managers and supervisors): the SLA report
// (GET /v1/reports/sla, docs/reports.md) of a date range as KPI tiles, Apache ECharts charts and
// tables, grouped by item, province pair, receiving window or handling region; every table has
// its CSV download (the API's format=csv; the session cookie goes with the link). Counts and
// means only: no case and no personal data reaches this page.
import { get, query } from '../api.js';
import { field, h, replace, select, table } from '../dom.js';
import { label, t } from '../i18n.js';
import { addDays, chinaDate, errorBox, loading } from '../ui.js';

const GROUPINGS = ['item', 'pair', 'receivingRegion', 'handlingRegion'];
const LEVELS = ['非常满意', '满意', '基本满意', '不满意', '非常不满意'];
const PARTIES = ['receiving', 'handling', 'applicant', 'post'];
const STAGES = ['intake', 'precheck', 'correction', 'transfer', 'review', 'decision', 'delivery'];

let echartsLoading = null;

/** ECharts' browser build, loaded once, from this origin (the CSP allows no other). */
function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  echartsLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/console/vendor/echarts.min.js';
    script.onload = () => resolve(window.echarts);
    script.onerror = () => {
      echartsLoading = null;
      reject(new Error(t('dashboard.chartsFailed')));
    };
    document.head.append(script);
  });
  return echartsLoading;
}

const pct = (rate) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`);
const pctValue = (rate) => (rate === null || rate === undefined ? null : Math.round(rate * 1000) / 10);
const mean = (v) => (v === null || v === undefined ? '—' : v.toFixed(1));

export function render(ctx) {
  const controller = new AbortController();
  const charts = [];
  const q = ctx.query;
  const today = chinaDate(0);
  let from = q.get('from') ?? addDays(today, -29);
  let end = q.get('to') ? addDays(q.get('to'), -1) : today;
  let groupBy = GROUPINGS.includes(q.get('groupBy')) ? q.get('groupBy') : 'item';

  const fromInput = h('input', { type: 'date', name: 'from', value: from, required: true, 'data-testid': 'from' });
  const endInput = h('input', { type: 'date', name: 'end', value: end, required: true, 'data-testid': 'end' });
  const groupSelect = select({ name: 'groupBy', 'data-testid': 'group-by' }, GROUPINGS.map((g) => [g, label('groupBy', g)]), groupBy);
  const body = h('div', { 'data-testid': 'dashboard-body' });
  const form = h(
    'form',
    {
      class: 'filters inline',
      'data-testid': 'dashboard-filters',
      onsubmit: (e) => {
        e.preventDefault();
        from = fromInput.value;
        end = endInput.value;
        groupBy = groupSelect.value;
        history.replaceState(null, '', `/console/dashboard${query({ from, to: addDays(end, 1), groupBy })}`);
        load();
      },
    },
    field(t('dashboard.from'), fromInput),
    field(t('dashboard.end'), endInput),
    field(t('dashboard.groupBy'), groupSelect),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'apply' }, t('dashboard.apply'))),
  );

  const onResize = () => charts.forEach((c) => c.resize());
  window.addEventListener('resize', onResize);

  function disposeCharts() {
    while (charts.length) charts.pop().dispose();
  }

  async function load() {
    disposeCharts();
    replace(body, loading());
    const params = { from, to: addDays(end, 1), groupBy };
    let report;
    try {
      report = await get(`/v1/reports/sla${query(params)}`, { signal: controller.signal });
    } catch (e) {
      if (e?.name !== 'AbortError') replace(body, errorBox(e));
      return;
    }
    const csv = (tableName) => `/v1/reports/sla${query({ ...params, format: 'csv', ...(tableName === 'weekly' ? { table: 'weekly' } : {}) })}`;
    const chartBoxes = {
      weekly: h('div', { class: 'chart', 'data-testid': 'chart-weekly' }),
      groups: h('div', { class: 'chart', 'data-testid': 'chart-groups' }),
      rounds: h('div', { class: 'chart', 'data-testid': 'chart-rounds' }),
      held: h('div', { class: 'chart', 'data-testid': 'chart-held' }),
      stages: h('div', { class: 'chart', 'data-testid': 'chart-stages' }),
      ratings: h('div', { class: 'chart', 'data-testid': 'chart-ratings' }),
    };
    const total = report.total;
    replace(
      body,
      h('p', { class: 'muted' }, t('dashboard.scope', { region: report.region, from: report.from, end: addDays(report.to, -1), cases: total.cases })),
      h(
        'div',
        { class: 'tiles', 'data-testid': 'kpis' },
        tile(t('dashboard.promisedRate'), pct(total.promised.rate), t('dashboard.measured', { onTime: total.promised.onTime, measured: total.promised.measured }), 'promised-rate'),
        tile(t('dashboard.statutoryRate'), pct(total.statutory.rate), t('dashboard.measured', { onTime: total.statutory.onTime, measured: total.statutory.measured }), 'statutory-rate'),
        tile(t('dashboard.overdue'), String(total.open.overdue), t('dashboard.ofOpen', { n: total.open.cases }), 'overdue', total.open.overdue > 0 ? 'bad' : null),
        tile(t('dashboard.atRisk'), String(total.open.atRisk), t('dashboard.ofOpen', { n: total.open.cases }), 'at-risk', total.open.atRisk > 0 ? 'warn' : null),
        tile(t('dashboard.openFollowUps'), String(total.followUps.open), t('dashboard.followUpsOverdue', { n: total.followUps.overdue }), 'open-follow-ups'),
        tile(t('dashboard.decided'), String(total.decided), t('dashboard.approvedRejected', { approved: total.approved, rejected: total.rejected }), 'decided'),
      ),
      h(
        'div',
        { class: 'charts' },
        chartCard(t('dashboard.chartWeekly'), chartBoxes.weekly),
        chartCard(t('dashboard.chartGroups', { by: label('groupBy', report.groupBy) }), chartBoxes.groups),
        chartCard(t('dashboard.chartRounds'), chartBoxes.rounds),
        chartCard(t('dashboard.chartHeld'), chartBoxes.held),
        chartCard(t('dashboard.chartStages'), chartBoxes.stages),
        chartCard(t('dashboard.chartRatings'), chartBoxes.ratings),
      ),
      h(
        'section',
        { class: 'block' },
        h('h2', {}, t('dashboard.groupsTable', { by: label('groupBy', report.groupBy) }), ' ', h('a', { href: csv('groups'), download: '', class: 'csv', 'data-testid': 'csv-groups' }, t('dashboard.csv'))),
        h('div', { class: 'scroll' }, groupsTable(report)),
      ),
      h(
        'section',
        { class: 'block' },
        h('h2', {}, t('dashboard.weeklyTable'), ' ', h('a', { href: csv('weekly'), download: '', class: 'csv', 'data-testid': 'csv-weekly' }, t('dashboard.csv'))),
        weeklyTable(report),
      ),
    );
    try {
      const echarts = await loadECharts();
      if (controller.signal.aborted) return;
      drawCharts(echarts, report, chartBoxes);
    } catch (e) {
      for (const box of Object.values(chartBoxes)) replace(box, errorBox(e));
    }
  }

  function drawCharts(echarts, report, boxes) {
    const make = (box, option) => {
      const chart = echarts.init(box, null, { renderer: 'canvas' });
      // The tooltip drawn on the canvas: an HTML tooltip would need inline styles, which the CSP forbids.
      chart.setOption({ tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 48, right: 24, top: 40, bottom: 48, containLabel: true }, ...option });
      charts.push(chart);
      box.dataset.ready = 'true';
    };
    const rateAxis = { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } };
    make(boxes.weekly, {
      legend: { top: 0 },
      xAxis: { type: 'category', data: report.weekly.map((w) => w.week) },
      yAxis: [rateAxis, { type: 'value', minInterval: 1 }],
      series: [
        { name: t('dashboard.promisedRate'), type: 'line', data: report.weekly.map((w) => pctValue(w.promised.rate)), connectNulls: true, z: 3, symbolSize: 8 },
        { name: t('dashboard.statutoryRate'), type: 'line', data: report.weekly.map((w) => pctValue(w.statutory.rate)), connectNulls: true, z: 3, symbolSize: 8 },
        { name: t('dashboard.decided'), type: 'bar', yAxisIndex: 1, data: report.weekly.map((w) => w.decided), barMaxWidth: 24, itemStyle: { opacity: 0.35 } },
      ],
    });
    make(boxes.groups, {
      legend: { top: 0 },
      xAxis: { type: 'category', data: report.groups.map((g) => g.name), axisLabel: { interval: 0, rotate: report.groups.length > 4 ? 30 : 0 } },
      yAxis: rateAxis,
      series: [
        { name: t('dashboard.promisedRate'), type: 'bar', data: report.groups.map((g) => pctValue(g.promised.rate)) },
        { name: t('dashboard.statutoryRate'), type: 'bar', data: report.groups.map((g) => pctValue(g.statutory.rate)) },
      ],
    });
    const rounds = ['0', '1', '2', '3+'];
    make(boxes.rounds, {
      xAxis: { type: 'category', data: rounds.map((r) => t('dashboard.rounds', { n: r })) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ name: t('dashboard.cases'), type: 'bar', data: rounds.map((r) => report.total.correctionRounds[r]), barMaxWidth: 48 }],
    });
    make(boxes.held, {
      legend: { top: 0 },
      xAxis: { type: 'category', data: report.groups.map((g) => g.name), axisLabel: { interval: 0, rotate: report.groups.length > 4 ? 30 : 0 } },
      yAxis: { type: 'value' },
      series: PARTIES.map((p) => ({ name: label('party', p), type: 'bar', stack: 'held', data: report.groups.map((g) => g.workingDaysHeld[p]) })),
    });
    // Per stage: the total's means, and each group's as a series the legend switches on (off at
    // first, so many groups do not crowd the chart). A name shared by two groups carries its key.
    const names = report.groups.map((g) => g.name);
    const seriesName = (g) => (names.filter((n) => n === g.name).length > 1 ? `${g.name} (${g.key})` : g.name);
    const stageSeries = [
      { name: t('dashboard.total'), group: report.total },
      ...report.groups.map((g) => ({ name: seriesName(g), group: g })),
    ];
    make(boxes.stages, {
      legend: { top: 0, type: 'scroll', selected: Object.fromEntries(stageSeries.map((s, i) => [s.name, i === 0])) },
      xAxis: { type: 'category', data: STAGES.map((s) => label('stage', s)), axisLabel: { interval: 0 } },
      yAxis: { type: 'value' },
      series: stageSeries.map((s) => ({ name: s.name, type: 'bar', barMaxWidth: 32, data: STAGES.map((st) => s.group.workingDaysPerStage?.[st] ?? null) })),
    });
    const ratings = report.total.evaluations;
    make(boxes.ratings, {
      tooltip: { trigger: 'item', renderMode: 'richText' },
      legend: { bottom: 0 },
      // No rating in the period: say so rather than draw five equal slices of nothing.
      title: ratings.total === 0 ? { text: t('dashboard.noRatings'), left: 'center', top: 'middle', textStyle: { fontSize: 14, fontWeight: 'normal', color: '#59636e' } } : undefined,
      series: [
        {
          name: t('dashboard.chartRatings'),
          type: 'pie',
          radius: ['35%', '65%'],
          stillShowZeroSum: false,
          data: ratings.total === 0 ? [] : LEVELS.map((l) => ({ name: l, value: ratings.byLevel[l] ?? 0 })),
          label: { formatter: '{b}: {c}' },
        },
      ],
    });
  }

  load();
  return {
    el: h('div', { class: 'page page-dashboard' }, h('h1', {}, t('dashboard.title')), form, body),
    title: t('dashboard.title'),
    dispose: () => {
      controller.abort();
      window.removeEventListener('resize', onResize);
      disposeCharts();
    },
  };
}

function tile(title, value, sub, id, tone) {
  return h('div', { class: ['tile', tone ? `tile-${tone}` : null], 'data-testid': `kpi-${id}` }, h('div', { class: 'tile-title' }, title), h('div', { class: 'tile-value' }, value), h('div', { class: 'tile-sub' }, sub));
}

function chartCard(title, box) {
  return h('figure', { class: 'card chart-card' }, h('figcaption', {}, title), box);
}

function groupsTable(report) {
  const rows = [...report.groups, { key: 'total', name: t('dashboard.total'), ...report.total }];
  return table(
    [
      { label: t('dashboard.group'), cell: (g) => (g.key === 'total' ? h('strong', {}, g.name) : [g.name, ' ', h('small', { class: 'muted' }, `(${g.key})`)]), class: 'nowrap' },
      { label: t('dashboard.cases'), cell: (g) => String(g.cases), class: 'num' },
      { label: t('dashboard.decided'), cell: (g) => String(g.decided), class: 'num' },
      { label: t('dashboard.promisedRate'), cell: (g) => pct(g.promised.rate), class: 'num' },
      { label: t('dashboard.statutoryRate'), cell: (g) => pct(g.statutory.rate), class: 'num' },
      { label: t('dashboard.open'), cell: (g) => String(g.open.cases), class: 'num' },
      { label: t('dashboard.atRisk'), cell: (g) => String(g.open.atRisk), class: 'num' },
      { label: t('dashboard.overdue'), cell: (g) => String(g.open.overdue), class: 'num' },
      ...PARTIES.map((p) => ({ label: t('dashboard.heldBy', { party: label('party', p) }), cell: (g) => mean(g.workingDaysHeld[p]), class: 'num' })),
      { label: t('dashboard.correctionRounds'), cell: (g) => ['0', '1', '2', '3+'].map((r) => g.correctionRounds[r]).join(' / '), class: 'num' },
      { label: t('dashboard.evaluations'), cell: (g) => String(g.evaluations.total), class: 'num' },
      { label: t('dashboard.openFollowUps'), cell: (g) => String(g.evaluations.openFollowUps), class: 'num' },
    ],
    rows,
    { class: 'figures', empty: t('dashboard.noData') },
  );
}

function weeklyTable(report) {
  return table(
    [
      { label: t('dashboard.week'), cell: (w) => `${w.week} (${w.from})` },
      { label: t('dashboard.cases'), cell: (w) => String(w.cases), class: 'num' },
      { label: t('dashboard.decided'), cell: (w) => String(w.decided), class: 'num' },
      { label: t('dashboard.promisedRate'), cell: (w) => `${pct(w.promised.rate)} (${w.promised.onTime}/${w.promised.measured})`, class: 'num' },
      { label: t('dashboard.statutoryRate'), cell: (w) => `${pct(w.statutory.rate)} (${w.statutory.onTime}/${w.statutory.measured})`, class: 'num' },
    ],
    report.weekly,
    { class: 'figures', empty: t('dashboard.noData') },
  );
}
