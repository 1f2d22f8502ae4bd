// The staff console in a real browser (chromium through playwright-core) against a whole tongban:
// the simulator's provinces, the worker, the api, and staff signing in at the development identity
// provider's login form. Three days at the office: a clerk finds cases whose province was down,
// watches them in the live stuck queue, retries them once the province is back and sees them move
// on; a supervisor approves the reroute a colleague clerk asked for; a manager filters the SLA
// dashboard by dates and downloads its CSV. Screenshots (Chinese, the console's default) go to
// .data/artefacts/screenshots/.
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, samplePdf, submitCase } from '../../harness/cases.js';
import { expectCjkFont, launchChromium, newContext, screenshot, signIn, startConsoleSite, watch, type ConsoleSite } from './support.js';

let site: ConsoleSite;
let browser: Browser;
/** Why the browser could not start (no chromium, no CJK font): every test fails with it rather than being skipped. */
let setupProblem: Error | null = null;

beforeAll(async () => {
  try {
    expectCjkFont();
    browser = await launchChromium();
  } catch (e) {
    setupProblem = e as Error;
    return;
  }
  site = await startConsoleSite();
}, 180_000);

function requireBrowser(): void {
  if (setupProblem) throw setupProblem;
}
afterAll(async () => {
  await browser?.close();
  await site?.stop();
});

/** A China date, moved by `days`. */
function chinaDate(days = 0): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * 86_400_000));
}

interface CaseView {
  caseId: string;
  stage: string;
  status: string;
  needsIntervention: boolean;
  timeline: { seq: number; type: string; data: unknown }[];
}

const caseUrl = (caseId: string) => `${site.url}/v1/cases/${caseId}`;

/** Takes in a pension transfer at the Guangzhou window (440100) for Sichuan (510000), as the window's system does. */
async function takeIn(applicantName: string): Promise<string> {
  const clerk = await site.stack.token('clerk', '440100');
  const sub = await submitCase(site.url, clerk, { applicantName, delivery: { method: 'electronic' } });
  expect(sub.status, JSON.stringify(sub.body)).toBe(201);
  return sub.body.caseId;
}

async function readCase(caseId: string): Promise<CaseView> {
  const clerk = await site.stack.token('clerk', '440100');
  return (await getJson<CaseView>(caseUrl(caseId), clerk)).body;
}

/** Waits for the case to reach `done`; a timeout names where it stands and every event it recorded. */
async function untilCase(caseId: string, done: (c: CaseView) => boolean, what: string, timeoutMs = 45_000): Promise<CaseView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await readCase(caseId);
    if (done(c)) return c;
    if (Date.now() > deadline) {
      const events = c.timeline.map((e) => `${e.seq} ${e.type} ${JSON.stringify(e.data).slice(0, 200)}`).join('\n  ');
      throw new Error(`timed out waiting for ${what} (case ${caseId}): ${c.stage}/${c.status}, needsIntervention ${c.needsIntervention}; events:\n  ${events}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function untilStuck(caseId: string): Promise<CaseView> {
  return untilCase(caseId, (c) => c.needsIntervention, 'the case flagged for intervention', 30_000);
}

describe('a province that was down', () => {
  it('When Sichuan is down, then a clerk sees its cases arrive live in the stuck queue; once it is back, retrying one on its page and two together moves them on', async () => {
    requireBrowser();
    site.stack.simulator.setScenario('510000', 'down');
    try {
      const first = await takeIn('停机甲');
      await untilStuck(first);

      const context = await newContext(browser);
      const page = await context.newPage();
      const seen = watch(page);
      await signIn(page, site, 'clerk-gd');
      await expect.poll(() => page.getByTestId('staff-role').textContent()).toBe('窗口人员');
      // The search opens on the newest cases of the clerk's region, the applicant masked.
      const found = page.locator(`[data-testid="search-results"] tr[data-case-id="${first}"]`);
      await found.waitFor();
      expect(await found.textContent()).toMatch(/停\*\*.*预审|停\*\*.*移交/);
      expect(await page.getByTestId('search-results').textContent()).not.toContain('停机甲');
      await page.locator('input[name="stuck"]').check();
      await page.locator('select[name="reason"]').selectOption('intervention');
      await page.getByTestId('search-form').locator('button[type="submit"]').click();
      await page.waitForURL((u) => u.searchParams.get('reason') === 'intervention');
      await found.waitFor();
      await screenshot(page, 'search-stuck-clerk-zh');

      await page.locator('nav a[href="/console/stuck"]').click();
      const row = (caseId: string) => page.locator(`[data-testid="stuck-list"] tr[data-case-id="${caseId}"]`);
      await row(first).waitFor();
      expect(await row(first).textContent()).toContain('需人工处理');

      // Two more while the page is open: the queue shows them without a reload (server-sent events).
      const [second, third] = [await takeIn('停机乙'), await takeIn('停机丙')];
      await Promise.all([untilStuck(second), untilStuck(third)]);
      await row(second).waitFor({ timeout: 20_000 });
      await row(third).waitFor({ timeout: 20_000 });
      await expect.poll(() => page.getByTestId('live-state').textContent()).toMatch(/^实时/);
      // The reason says why: the step and the province's last error.
      expect(await row(second).locator('ul.reasons').textContent()).toMatch(/需人工处理.*自 /);
      await screenshot(page, 'stuck-queue-clerk-zh');

      site.stack.simulator.setScenario('510000', 'approve');

      // One case from its page: the intervention, the retry with its reason, and the case moving on.
      await row(first).locator(`a[href="/console/cases/${first}"]`).click();
      await page.waitForURL(`${site.url}/console/cases/${first}`);
      await page.getByTestId('intervention').waitFor();
      expect(await page.getByTestId('case-stage').textContent()).toBe({ precheck: '预审', transfer: '移交' }[(await readCase(first)).stage]);
      // An action that does not fit says why (the API's 409): this step cannot be done outside the system.
      await page.locator('button[data-action="record-offline"]').click();
      const offline = page.getByTestId('form-record-offline');
      expect(await offline.locator('input[name="step"]').inputValue()).toBe('verifyELicence:resident-id-card');
      await offline.locator('input[name="evidence"]').setInputFiles({ name: 'evidence.pdf', mimeType: 'application/pdf', buffer: samplePdf('offline-evidence') });
      await offline.locator('textarea[name="reason"]').fill('已线下核验身份证');
      await page.getByTestId('preview-action').click();
      await expect.poll(() => offline.locator('.error').textContent(), { timeout: 15_000 }).toContain('cannot be done outside the system');
      expect(await page.getByTestId('confirm-action').isVisible()).toBe(false);

      await page.locator('button[data-action="retry"]').click();
      await page.getByTestId('form-retry').locator('textarea[name="reason"]').fill('四川省系统已恢复，重新移交');
      await page.getByTestId('confirm-action').click();
      await expect.poll(() => page.getByTestId('action-result').textContent(), { timeout: 20_000 }).toMatch(/^重试已完成/);
      await untilCase(first, (c) => c.status === 'completed', 'the retried case completed');
      await page.reload();
      await expect.poll(() => page.getByTestId('case-status').textContent(), { timeout: 15_000 }).toContain('已办结');
      expect(await page.locator('table.timeline').textContent()).toContain('人工重试');
      expect(await page.locator('[data-testid="intervention"]').count()).toBe(0);
      await screenshot(page, 'case-retried-clerk-zh');

      // The other two together, from the queue filtered to the reason.
      await page.locator('nav a[href="/console/stuck"]').click();
      await page.getByTestId('reason-filter').selectOption('intervention');
      await row(second).waitFor();
      await expect.poll(() => row(first).count(), { timeout: 20_000 }).toBe(0);
      // Select-all takes every case of the reason; the clerk keeps only the two from Sichuan.
      await page.getByTestId('select-all').check();
      const visible = await page.locator('[data-testid="stuck-list"] tbody tr[data-case-id]').count();
      await expect.poll(() => page.getByTestId('selected-count').textContent()).toBe(`已选 ${visible} 件`);
      await page.getByTestId('select-all').uncheck();
      await row(second).locator('input[type="checkbox"]').check();
      await row(third).locator('input[type="checkbox"]').check();
      await expect.poll(() => page.getByTestId('selected-count').textContent()).toBe('已选 2 件');
      await page.getByTestId('bulk-reason').fill('四川省系统已恢复，批量重试');
      await page.getByTestId('bulk-retry').click();
      await page.locator('[data-testid="bulk-status"][data-pending="0"]').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('bulk-status').textContent()).toBe('完成 2，失败 0，进行中 0，共 2');
      expect(await page.getByTestId('bulk-progress').getAttribute('value')).toBe('2');
      await screenshot(page, 'stuck-bulk-retry-clerk-zh');
      // They leave the queue as they move on.
      await expect.poll(() => row(second).count(), { timeout: 20_000 }).toBe(0);
      await expect.poll(() => row(third).count(), { timeout: 20_000 }).toBe(0);
      for (const id of [second, third]) await untilCase(id, (c) => c.status === 'completed', 'the bulk-retried case completed');

      expect(seen.problems).toEqual([]);
      await context.close();
    } finally {
      site.stack.simulator.setScenario('510000', 'approve');
    }
  });
});

describe('four eyes on a reroute', () => {
  it('When a clerk asks to reroute a case, then the page shows what it does before sending it for approval, the clerk cannot approve it, and a supervisor of the window approves it and the case goes to the new authority', async () => {
    requireBrowser();
    site.stack.simulator.setScenario('510000', 'down');
    let caseId: string;
    try {
      caseId = await takeIn('改派测试');
      await untilStuck(caseId);
    } finally {
      site.stack.simulator.setScenario('510000', 'approve');
    }

    // A colleague clerk at the same window asks.
    const clerkContext = await newContext(browser);
    const clerkPage = await clerkContext.newPage();
    const clerkSeen = watch(clerkPage);
    await signIn(clerkPage, site, 'clerk-gz2', `/console/cases/${caseId}`);
    await clerkPage.locator('button[data-action="reroute"]').click();
    const form = clerkPage.getByTestId('form-reroute');
    await form.locator('input[name="handlingRegion"]').fill('330000');
    await form.locator('textarea[name="reason"]').fill('四川省系统长时间中断，申请人同意改由浙江省办理');
    // No confirm before the effects are shown.
    expect(await clerkPage.getByTestId('confirm-action').isVisible()).toBe(false);
    await clerkPage.getByTestId('preview-action').click();
    const effects = clerkPage.getByTestId('preview').getByTestId('effects');
    await effects.waitFor();
    expect(await effects.textContent()).toContain('改由 浙江省 (330000) 办理');
    expect(await effects.locator('tbody tr').count()).toBe(2);
    await screenshot(clerkPage, 'reroute-preview-clerk-zh');
    await clerkPage.getByTestId('confirm-action').click();
    await expect.poll(() => clerkPage.getByTestId('action-result').textContent(), { timeout: 15_000 }).toMatch(/^已提交审批（[0-9a-f-]{36}）/);
    const approvalId = /（([0-9a-f-]{36})）/.exec((await clerkPage.getByTestId('action-result').textContent())!)![1]!;
    const mine = clerkPage.locator(`[data-testid="approval"][data-approval-id="${approvalId}"]`);
    await mine.waitFor();
    expect(await mine.textContent()).toContain('这是您本人提交的申请');
    expect(await mine.getByTestId('approve').count()).toBe(0);
    expect(clerkSeen.problems).toEqual([]);

    // The supervisor finds it waiting for them, reads the effects, approves.
    const supervisorContext = await newContext(browser);
    const page = await supervisorContext.newPage();
    const seen = watch(page);
    await signIn(page, site, 'supervisor-gd', '/console/stuck');
    const waiting = page.getByTestId('waiting-approvals');
    await waiting.locator(`a[href="/console/cases/${caseId}"]`).waitFor();
    expect(await waiting.textContent()).toContain('改派办理地');
    await waiting.locator(`a[href="/console/cases/${caseId}"]`).click();
    const card = page.locator(`[data-testid="approval"][data-approval-id="${approvalId}"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain('改由 浙江省 (330000) 办理');
    await card.locator('textarea[name="reason"]').fill('已核实申请人同意，准予改派');
    await card.getByTestId('approve').click();
    await expect.poll(() => page.getByTestId('action-result').textContent(), { timeout: 20_000 }).toBe(`已批准（${approvalId}）。`);
    await page.locator(`[data-testid="approval"][data-approval-id="${approvalId}"][data-status="approved"]`).waitFor();
    // Rerouted during the precheck, the step that was stuck at the old authority waits for a retry,
    // which asks the new one (workflows/case/reroute.ts); the supervisor retries it from the same page.
    if ((await readCase(caseId)).needsIntervention) {
      await page.locator('button[data-action="retry"]').click();
      await page.getByTestId('form-retry').locator('textarea[name="reason"]').fill('已改派浙江省，重新核验');
      await page.getByTestId('confirm-action').click();
      await expect.poll(() => page.getByTestId('action-result').textContent(), { timeout: 20_000 }).toMatch(/^重试已完成/);
    }
    await untilCase(caseId, (c) => c.status === 'completed', 'the rerouted case completed at its new authority');
    expect(site.stack.simulator.requests('330000').some((r) => r.path.includes('/cases'))).toBe(true);
    const rerouted = (await getJson<{ handlingRegion: string }>(caseUrl(caseId), await site.stack.token('clerk', '440100'))).body;
    expect(rerouted.handlingRegion).toBe('330000');
    await page.reload();
    await expect.poll(() => page.locator('.case-head').textContent(), { timeout: 15_000 }).toContain('330000 浙江省');
    await screenshot(page, 'reroute-approved-supervisor-zh');

    expect(seen.problems).toEqual([]);
    await supervisorContext.close();
    await clerkContext.close();
  });
});

describe('the managers’ dashboard', () => {
  it('When a manager opens the console, then it shows the SLA dashboard; filtered to a date range it shows that period, and its CSV download holds the same figures as the API', async () => {
    requireBrowser();
    // A case decided today, so the period has figures.
    const clerk = await site.stack.token('clerk', '440100');
    const sub = await submitCase(site.url, clerk, { applicantName: '看板数据', delivery: { method: 'electronic' } });
    expect(sub.status).toBe(201);
    await untilCase(sub.body.caseId, (c) => c.status === 'completed', 'the case completed');

    const context = await newContext(browser);
    const page = await context.newPage();
    const seen = watch(page);
    await signIn(page, site, 'manager-gd');
    // A manager sees no personal data: the console's home for the role is the dashboard.
    await page.waitForURL(`${site.url}/console/dashboard`);
    await expect.poll(() => page.locator('nav a').allTextContents()).toEqual(['统计看板']);
    await expect.poll(() => page.getByTestId('staff-role').textContent()).toBe('管理人员');

    const from = chinaDate(-6);
    const end = chinaDate(0);
    await page.getByTestId('from').fill(from);
    await page.getByTestId('end').fill(end);
    await page.getByTestId('group-by').selectOption('pair');
    await page.getByTestId('apply').click();
    await page.waitForURL((u) => u.searchParams.get('from') === from && u.searchParams.get('groupBy') === 'pair');
    for (const chart of ['weekly', 'groups', 'rounds', 'held', 'stages', 'ratings']) await page.locator(`[data-testid="chart-${chart}"][data-ready="true"] canvas`).first().waitFor();

    // The figures are the API's for the same period (the end date is included: to is the day after).
    const to = chinaDate(1);
    const manager = await site.stack.token('manager', '440000');
    const report = (await getJson<{ total: { cases: number; decided: number; promised: { rate: number | null } }; groups: { key: string; name: string; cases: number }[] }>(`${site.url}/v1/reports/sla?from=${from}&to=${to}&groupBy=pair`, manager)).body;
    expect(report.total.decided).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.getByTestId('kpi-decided').locator('.tile-value').textContent()).toBe(String(report.total.decided));
    const pair = report.groups.find((g) => g.key === '440000-510000')!;
    expect(pair.name).toBe('广东省→四川省');
    await expect.poll(() => page.locator('table.figures').first().textContent()).toContain('广东省→四川省 (440000-510000)');
    await screenshot(page, 'dashboard-manager-zh');

    // The CSV of the table, downloaded as the browser downloads it (the session cookie goes along).
    const link = page.getByTestId('csv-groups');
    expect(await link.getAttribute('href')).toBe(`/v1/reports/sla?from=${from}&to=${to}&groupBy=pair&format=csv`);
    expect(await page.getByTestId('csv-weekly').getAttribute('href')).toBe(`/v1/reports/sla?from=${from}&to=${to}&groupBy=pair&format=csv&table=weekly`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe(`sla-440000-${from}-${to}-pair.csv`);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    const lines = csv.slice(1).trim().split(/\r\n/);
    expect(lines[0]!.split(',').slice(0, 4)).toEqual(['group', 'name', 'cases', 'decided']);
    const pairRow = lines.find((l) => l.startsWith('440000-510000,'))!.split(',');
    expect(pairRow.slice(0, 3)).toEqual(['440000-510000', '广东省→四川省', String(pair.cases)]);
    const totalRow = lines.find((l) => l.startsWith('total,'))!.split(',');
    expect(totalRow.slice(0, 4)).toEqual(['total', '合计', String(report.total.cases), String(report.total.decided)]);

    // The English switch, remembered for the next visit.
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('SLA dashboard');
    await page.reload();
    await expect.poll(() => page.locator('h1').textContent()).toBe('SLA dashboard');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.locator('[data-testid="chart-weekly"][data-ready="true"]').waitFor();
    await screenshot(page, 'dashboard-manager-en');

    expect(seen.problems).toEqual([]);
    await context.close();
  });
});
