// The hand-off ledger's pure part (domain/handoffs.ts): which entries each recorded event creates,
// the entry hash and the chain check, and custody in working days. Custody is counted on the
// shipped calendar around National Day 2025, every figure worked out by hand from the State
// Council's 2025 notice: 10-01..10-08 off (国庆节、中秋节), Sunday 09-28 and Saturday 10-11 worked,
// other weekends off. Working days from 09-26 to 10-20: 09-26, 09-28, 09-29, 09-30, 10-09, 10-10,
// 10-11, 10-13, 10-14, 10-15, 10-16, 10-17, 10-20.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '../../domain/calendar.js';
import {
  chainEntry,
  custodyOf,
  documentHash,
  entryHash,
  GENESIS_HASH,
  handoffsFromEvent,
  verifyEntries,
  workingDaysHeld,
  type ChainedHandoff,
  type CustodyEvent,
  type HandoffDraft,
} from '../../domain/handoffs.js';
import { testCalendar } from '../../harness/calendar.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const CASE = '00000000-0000-4000-8000-000000000001';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('which hand-offs an event records', () => {
  const at = '2025-09-26T01:00:00Z';

  it('When a material is transferred, then it is one entry receiving → handling with its hash, acknowledged at the same instant', () => {
    expect(handoffsFromEvent({ seq: 4, type: 'material.transferred', at, data: { materialCode: 'form', sha256: SHA_A, size: 120 } })).toEqual([
      { kind: 'material', ref: 'material:form', from: 'receiving', to: 'handling', what: [{ materialCode: 'form', sha256: SHA_A, size: 120 }], sentAt: '2025-09-26T01:00:00.000Z', acknowledgedAt: '2025-09-26T01:00:00.000Z' },
    ]);
  });

  it('When a supplemented material is transferred, then it is a supplement receiving → handling named by notice, material and revision', () => {
    const [e] = handoffsFromEvent({ seq: 9, type: 'supplement.transferred', at, data: { noticeId: 'N1', materialCode: 'form', sha256: SHA_B, size: 99, revision: 1 } });
    expect(e).toMatchObject({ kind: 'supplement', ref: 'supplement:N1:form:r1', from: 'receiving', to: 'handling', what: [{ noticeId: 'N1', materialCode: 'form', sha256: SHA_B, size: 99, revision: 1 }] });
    expect(e!.acknowledgedAt).toBe(e!.sentAt);
  });

  it('When a notice is issued, then it goes from the notice’s side to the applicant with the hash of the notice as recorded, not yet acknowledged', () => {
    const data = { noticeId: 'N1', side: 'handling', round: 1, deficiencies: [{ materialCode: 'form', problem: '不清晰', needed: '重新扫描' }], supplementDue: '2025-10-20' };
    const [e] = handoffsFromEvent({ seq: 6, type: 'correction.notice_issued', at, data });
    expect(e).toMatchObject({ kind: 'correction_notice', ref: 'notice:N1', from: 'handling', to: 'applicant', acknowledgedAt: null });
    // The canonical JSON sorts keys at every level.
    const canonical = '{"deficiencies":[{"materialCode":"form","needed":"重新扫描","problem":"不清晰"}],"noticeId":"N1","round":1,"side":"handling","supplementDue":"2025-10-20"}';
    expect(e!.what).toEqual([{ noticeId: 'N1', round: 1, deficiencies: 1, sha256: sha256(canonical) }]);
    const receiving = handoffsFromEvent({ seq: 2, type: 'correction.notice_issued', at, data: { ...data, side: 'receiving' } });
    expect(receiving[0]).toMatchObject({ from: 'receiving', to: 'applicant' });
  });

  it('When the applicant supplements, then the supplement goes to the receiving window, and the notice is acknowledged by the applicant', () => {
    const drafts = handoffsFromEvent({
      seq: 7,
      type: 'correction.supplemented',
      at,
      data: { noticeId: 'N1', side: 'handling', round: 1, items: [{ materialCode: 'form', fileId: 'f-1', sha256: SHA_B, size: 99, contentType: 'application/pdf' }] },
    });
    expect(drafts).toEqual([
      { kind: 'supplement', ref: 'supplement:N1', from: 'applicant', to: 'receiving', what: [{ materialCode: 'form', sha256: SHA_B, size: 99 }], sentAt: '2025-09-26T01:00:00.000Z', acknowledgedAt: '2025-09-26T01:00:00.000Z' },
      { kind: 'ack', ref: 'ack:notice:N1', acknowledgesRef: 'notice:N1', from: 'applicant', to: 'handling', what: [{ noticeId: 'N1', answeredWith: 'supplement:N1' }], sentAt: '2025-09-26T01:00:00.000Z', acknowledgedAt: null },
    ]);
  });

  it('When the authority decides, then the decision goes handling → receiving with its reasons hashed', () => {
    const [e] = handoffsFromEvent({ seq: 12, type: 'decision.rejected', at, data: { eventId: 'ev-9', via: 'callback', reasons: ['材料不全', '不符合条件'] } });
    expect(e).toMatchObject({ kind: 'decision', ref: 'decision', from: 'handling', to: 'receiving' });
    expect(e!.what).toEqual([{ outcome: 'rejected', reasons: 2, sha256: sha256('["材料不全","不符合条件"]'), provinceEventId: 'ev-9' }]);
    expect(handoffsFromEvent({ seq: 12, type: 'decision.approved', at, data: { eventId: 'ev-8', via: 'poll', reasons: [] } })[0]!.what).toEqual([
      { outcome: 'approved', reasons: 0, sha256: documentHash([]), provinceEventId: 'ev-8' },
    ]);
  });

  it('When the result is delivered, then an e-certificate goes handling → applicant, a mailing to the post, and the mail receipt is an ack of the mailing', () => {
    const issued = handoffsFromEvent({ seq: 14, type: 'delivery.issued', at, data: { certificate: { certificateId: 'C-1', issuer: '四川省人社厅', sha256: SHA_A, issuedAt: at } } });
    expect(issued).toMatchObject([{ kind: 'result', ref: 'result:electronic', from: 'handling', to: 'applicant', what: [{ certificateId: 'C-1', issuer: '四川省人社厅', sha256: SHA_A }] }]);
    expect(issued[0]!.acknowledgedAt).toBe(issued[0]!.sentAt);

    expect(handoffsFromEvent({ seq: 15, type: 'delivery.mailed', at, data: { trackingNumber: 'SF1234567890', via: 'callback' } })).toMatchObject([
      { kind: 'result_by_post', ref: 'result:post', from: 'handling', to: 'post', what: [{ trackingNumber: 'SF1234567890' }], acknowledgedAt: null },
    ]);
    expect(handoffsFromEvent({ seq: 16, type: 'delivery.confirmed', at, data: { signedBy: '张*', via: 'callback' } })).toMatchObject([
      { kind: 'ack', ref: 'ack:result:post', acknowledgesRef: 'result:post', from: 'applicant', to: 'handling', what: [{ confirmedVia: 'callback' }] },
    ]);
    expect(handoffsFromEvent({ seq: 16, type: 'delivery.confirmed', at, data: { method: 'mail', note: null, role: 'clerk', region: '440100' } })).toMatchObject([
      { kind: 'ack', acknowledgesRef: 'result:post', what: [{ confirmedVia: 'staff' }] },
    ]);
    // A result for pick-up goes to the window first (received there at once); a mailing's wait records nothing.
    expect(handoffsFromEvent({ seq: 15, type: 'delivery.awaiting', at, data: { method: 'window' } })).toMatchObject([
      { kind: 'result', ref: 'result:to-window', from: 'handling', to: 'receiving', acknowledgedAt: new Date(at).toISOString() },
    ]);
    expect(handoffsFromEvent({ seq: 15, type: 'delivery.awaiting', at, data: { method: 'mail' } })).toEqual([]);
    const window = handoffsFromEvent({ seq: 16, type: 'delivery.confirmed', at, data: { method: 'window', note: null, role: 'clerk', region: '440100' } });
    expect(window).toMatchObject([{ kind: 'result', ref: 'result:window', from: 'receiving', to: 'applicant' }]);
    expect(window[0]!.acknowledgedAt).toBe(window[0]!.sentAt);
  });

  it('When an extension is approved or a procedure names its notice, then the notice to the applicant is an entry; events that hand nothing over record none', () => {
    expect(handoffsFromEvent({ seq: 8, type: 'extension.approved', at, data: { extensionId: 'X1', days: 5, reason: '复杂', applicantNotice: '延期通知' } })).toMatchObject([
      { kind: 'extension_notice', ref: 'extension:X1', from: 'handling', to: 'applicant', what: [{ extensionId: 'X1', days: 5, sha256: sha256('"延期通知"') }] },
    ]);
    expect(handoffsFromEvent({ seq: 9, type: 'procedure.started', at, data: { procedureId: 'P1', kind: 'expert_review', reason: '专家评审', expectedEnd: null, noticeRef: 'SC-45-1' } })).toHaveLength(1);
    expect(handoffsFromEvent({ seq: 9, type: 'procedure.started', at, data: { procedureId: 'P1', kind: 'expert_review', reason: '专家评审', expectedEnd: null, noticeRef: null } })).toEqual([]);
    for (const type of ['case.submitted', 'review.started', 'sla.started', 'case.completed', 'correction.answered']) {
      expect(handoffsFromEvent({ seq: 1, type, at, data: {} })).toEqual([]);
    }
  });

  it('When an event is malformed, then it yields what can be read, or nothing without an instant, and never throws', () => {
    expect(handoffsFromEvent({ seq: 3, type: 'material.transferred', at, data: {} })).toMatchObject([{ ref: 'material:null', what: [{ materialCode: null, sha256: null, size: null }] }]);
    expect(handoffsFromEvent({ seq: 3, type: 'material.transferred', at: 'not a time', data: { materialCode: 'form', sha256: SHA_A, size: 1 } })).toEqual([]);
  });
});

describe('the chain', () => {
  const material: HandoffDraft = { kind: 'material', ref: 'material:form', from: 'receiving', to: 'handling', what: [{ materialCode: 'form', sha256: SHA_A, size: 120 }], sentAt: '2025-09-26T01:00:00Z', acknowledgedAt: '2025-09-26T01:00:00Z' };
  const mailed: HandoffDraft = { kind: 'result_by_post', ref: 'result:post', from: 'handling', to: 'post', what: [{ trackingNumber: 'SF1' }], sentAt: '2025-10-16T02:00:00Z', acknowledgedAt: null };
  const receipt: HandoffDraft = { kind: 'ack', ref: 'ack:result:post', acknowledgesRef: 'result:post', from: 'applicant', to: 'handling', what: [{ confirmedVia: 'callback' }], sentAt: '2025-10-20T02:00:00Z', acknowledgedAt: null };

  function chain(): ChainedHandoff[] {
    const e1 = chainEntry(null, CASE, material, { acknowledges: null, source: { eventSeq: 4, runId: 'run-A' } });
    const e2 = chainEntry(e1, CASE, mailed, { acknowledges: null, source: { eventSeq: 15, runId: 'run-A' } });
    const e3 = chainEntry(e2, CASE, receipt, { acknowledges: 2, source: { eventSeq: 16, runId: 'run-A' } });
    return [e1, e2, e3];
  }

  it('When the first entry is chained, then its prev is 64 zeros and its hash is sha256(prev + newline + the canonical JSON of its fields)', () => {
    const [e1] = chain();
    expect(e1!.prevHash).toBe(GENESIS_HASH);
    expect(e1!.seq).toBe(1);
    const canonical =
      `{"acknowledgedAt":"2025-09-26T01:00:00.000Z","acknowledges":null,"caseId":"${CASE}","from":"receiving","kind":"material","ref":"material:form",` +
      `"sentAt":"2025-09-26T01:00:00.000Z","seq":1,"source":{"eventSeq":4,"runId":"run-A"},"to":"handling","what":[{"materialCode":"form","sha256":"${SHA_A}","size":120}]}`;
    expect(e1!.entryHash).toBe(sha256(`${GENESIS_HASH}\n${canonical}`));
  });

  it('When entries follow, then each names the hash before it, and the whole chain verifies with the last hash as its head', () => {
    const entries = chain();
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[1]!.prevHash).toBe(entries[0]!.entryHash);
    expect(entries[2]!.prevHash).toBe(entries[1]!.entryHash);
    expect(verifyEntries(CASE, entries)).toEqual({ ok: true, length: 3, headHash: entries[2]!.entryHash });
    expect(verifyEntries(CASE, [])).toEqual({ ok: true, length: 0, headHash: GENESIS_HASH });
    // Key order does not matter to the hash (jsonb hands keys back in its own order).
    const reordered = { ...entries[0]!, what: [{ size: 120, sha256: SHA_A, materialCode: 'form' }] };
    expect(entryHash(GENESIS_HASH, reordered)).toBe(entries[0]!.entryHash);
  });

  it('When an entry’s content is changed, then that entry is the first bad one', () => {
    const entries = chain();
    entries[1] = { ...entries[1]!, what: [{ trackingNumber: 'SF-forged' }] };
    expect(verifyEntries(CASE, entries)).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/content does not match its entry_hash/) });
  });

  it('When a changed entry’s hash is recomputed too, then the entry after it no longer chains', () => {
    const entries = chain();
    const forged = { ...entries[1]!, what: [{ trackingNumber: 'SF-forged' }] };
    entries[1] = { ...forged, entryHash: entryHash(forged.prevHash, forged) };
    expect(verifyEntries(CASE, entries)).toMatchObject({ ok: false, firstBadSeq: 3, problem: expect.stringMatching(/prev_hash .* is not the hash of entry 2/) });
  });

  it('When an entry is removed, then the gap is reported at its seq', () => {
    const [e1, , e3] = chain();
    expect(verifyEntries(CASE, [e1!, e3!])).toMatchObject({ ok: false, firstBadSeq: 2, problem: 'entry 2 is missing (the next stored entry is 3)' });
  });

  it('When an ack names an entry that is not an earlier hand-off, or a hand-off names one, then the chain is bad there', () => {
    const e1 = chainEntry(null, CASE, material, { acknowledges: null, source: null });
    const selfAck = chainEntry(e1, CASE, receipt, { acknowledges: 2, source: null });
    expect(verifyEntries(CASE, [e1, selfAck])).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/acknowledges entry 2, which is not an earlier hand-off/) });
    const odd = chainEntry(e1, CASE, mailed, { acknowledges: 1, source: null });
    expect(verifyEntries(CASE, [e1, odd])).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/not an ack/) });
    // An ack of a hand-off that is not on the ledger (it predates the ledger) is allowed.
    expect(verifyEntries(CASE, [e1, chainEntry(e1, CASE, receipt, { acknowledges: null, source: null })]).ok).toBe(true);
  });

  it('When entries of another case are checked as this case’s, then they are refused', () => {
    expect(verifyEntries('00000000-0000-4000-8000-000000000002', chain())).toMatchObject({ ok: false, firstBadSeq: 1, problem: `entry 1 belongs to case ${CASE}` });
  });
});

describe('custody: who held the case, in working days', () => {
  const calendar = testCalendar('2025-10-20');
  const ev = (type: string, at: string, data: Record<string, unknown> = {}): CustodyEvent => ({ type, at, data });

  // Received 09-25 in Guangzhou; the authority has the materials 09-26 and asks for a correction
  // 09-29; the applicant supplements just after midnight of 10-10 China time (10-09 16:30 UTC); the
  // window sends the supplement and the authority has the answer 10-13; approval 10-15; the result
  // is posted 10-16 and signed for 10-20.
  const mailCase = [
    ev('case.submitted', '2025-09-25T02:00:00Z'),
    ev('review.started', '2025-09-26T02:00:00Z'),
    ev('correction.notice_issued', '2025-09-29T03:00:00Z', { side: 'handling' }),
    ev('correction.supplemented', '2025-10-09T16:30:00Z', { side: 'handling' }),
    ev('correction.answered', '2025-10-13T02:00:00Z'),
    ev('decision.approved', '2025-10-15T02:00:00Z'),
    ev('delivery.awaiting', '2025-10-15T02:00:01Z', { method: 'mail' }),
    ev('delivery.mailed', '2025-10-16T02:00:00Z'),
    ev('delivery.confirmed', '2025-10-20T02:00:00Z'),
    ev('case.completed', '2025-10-20T02:00:01Z'),
  ];

  it('When a case went through a correction and the post, then each holder’s working days add up to the case’s, the day of a hand-off counting for the one who passed it on', () => {
    const intervals = custodyOf(mailCase, '2025-10-20T02:00:01Z');
    expect(intervals.map((i) => [i.holder, i.from, i.to])).toEqual([
      ['receiving', '2025-09-25T02:00:00.000Z', '2025-09-26T02:00:00.000Z'],
      ['handling', '2025-09-26T02:00:00.000Z', '2025-09-29T03:00:00.000Z'],
      ['applicant', '2025-09-29T03:00:00.000Z', '2025-10-09T16:30:00.000Z'],
      ['receiving', '2025-10-09T16:30:00.000Z', '2025-10-13T02:00:00.000Z'],
      ['handling', '2025-10-13T02:00:00.000Z', '2025-10-16T02:00:00.000Z'],
      ['post', '2025-10-16T02:00:00.000Z', '2025-10-20T02:00:00.000Z'],
    ]);
    const held = workingDaysHeld(intervals, '2025-10-20T02:00:01Z', calendar);
    // receiving 09-25→09-26: 09-26 = 1
    // handling 09-26→09-29: 09-27 off, 09-28 (Sunday, worked), 09-29 = 2
    // applicant 09-29→10-10 (China date of 10-09 16:30 UTC): 09-30, 10-01..08 off, 10-09, 10-10 = 3
    // receiving 10-10→10-13: 10-11 (Saturday, worked), 10-12 off, 10-13 = 2
    // handling 10-13→10-16: 10-14, 10-15, 10-16 = 3
    // post 10-16→10-20: 10-17, 10-18/19 off, 10-20 = 2
    expect(held.custody.map((i) => i.workingDays)).toEqual([1, 2, 3, 2, 3, 2]);
    expect(held.workingDaysBySide).toEqual({ receiving: 3, handling: 5, applicant: 3, post: 2 });
    expect(held.calendarGap).toBeNull();
    // 13 working days after 09-25 up to 10-20, each attributed once.
    expect(calendar.workingDaysBetween('2025-09-25', '2025-10-20')).toBe(13);
  });

  it('When the case is still open, then the last holder’s interval has no end and counts up to the day asked for', () => {
    const intervals = custodyOf(mailCase.slice(0, 2), '2025-10-09T04:00:00Z');
    expect(intervals.at(-1)).toEqual({ holder: 'handling', from: '2025-09-26T02:00:00.000Z', to: null });
    // 09-28, 09-29, 09-30, 10-09
    expect(workingDaysHeld(intervals, '2025-10-09T04:00:00Z', calendar).workingDaysBySide).toEqual({ receiving: 1, handling: 4, applicant: 0, post: 0 });
    // Events after the day asked for are not read.
    expect(custodyOf(mailCase, '2025-09-27T00:00:00Z').map((i) => [i.holder, i.to])).toEqual([['receiving', '2025-09-26T02:00:00.000Z'], ['handling', null]]);
  });

  it('When the receiving window asked for the correction, then the applicant holds it until the supplement and the window until the authority has the materials', () => {
    const intervals = custodyOf(
      [
        ev('case.submitted', '2025-09-26T02:00:00Z'),
        ev('precheck.passed', '2025-09-26T02:00:01Z'),
        ev('correction.notice_issued', '2025-09-26T02:00:02Z', { side: 'receiving' }),
        ev('correction.supplemented', '2025-09-30T02:00:00Z', { side: 'receiving' }),
        ev('precheck.passed', '2025-10-09T02:00:00Z'),
        ev('material.transferred', '2025-10-09T02:00:01Z'),
        ev('review.started', '2025-10-09T02:00:02Z'),
        ev('decision.rejected', '2025-10-13T02:00:00Z'),
        ev('case.closed', '2025-10-13T02:00:01Z'),
      ],
      '2025-10-13T02:00:01Z',
    );
    expect(intervals.map((i) => i.holder)).toEqual(['receiving', 'applicant', 'receiving', 'handling']);
    // receiving 09-26→09-26: 0; applicant 09-26→09-30: 09-28, 09-29, 09-30 = 3; receiving 09-30→10-09: 10-09 = 1;
    // handling 10-09→10-13: 10-10, 10-11, 10-13 = 3; custody ends with the rejection.
    expect(workingDaysHeld(intervals, '2025-10-13T02:00:01Z', calendar).custody.map((i) => i.workingDays)).toEqual([0, 3, 1, 3]);
  });

  it('When the result waits at the window, then the applicant holds the case until the pick-up', () => {
    const intervals = custodyOf(
      [
        ev('case.submitted', '2025-10-09T02:00:00Z'),
        ev('review.started', '2025-10-09T03:00:00Z'),
        ev('decision.approved', '2025-10-10T02:00:00Z'),
        ev('delivery.awaiting', '2025-10-10T02:00:01Z', { method: 'window' }),
        ev('delivery.confirmed', '2025-10-14T07:00:00Z', { method: 'window' }),
      ],
      new Date('2025-10-20T00:00:00Z'),
    );
    expect(intervals.map((i) => [i.holder, i.to])).toEqual([
      ['receiving', '2025-10-09T03:00:00.000Z'],
      ['handling', '2025-10-10T02:00:01.000Z'],
      ['applicant', '2025-10-14T07:00:00.000Z'],
    ]);
    expect(workingDaysHeld(intervals, '2025-10-20T00:00:00Z', calendar).workingDaysBySide).toEqual({ receiving: 0, handling: 1, applicant: 3, post: 0 });
  });

  it('When the calendar data does not reach an interval’s end, then that interval has no count and the gap is named', () => {
    const short = WorkingCalendar.fromWindow({ from: '2025-09-01', to: '2025-10-10', holidays: [], workingWeekends: [] });
    const held = workingDaysHeld(custodyOf(mailCase.slice(0, 3), '2025-10-20T00:00:00Z'), '2025-10-20T00:00:00Z', short);
    expect(held.custody.map((i) => i.workingDays)).toEqual([1, 1, null]);
    expect(held.calendarGap).toMatch(/does not cover 2025-10-20/);
    expect(held.workingDaysBySide).toEqual({ receiving: 1, handling: 1, applicant: 0, post: 0 });
  });
});
