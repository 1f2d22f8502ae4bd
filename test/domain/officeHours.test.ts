// Office hours on working days (domain/officeHours.ts), worked out by hand around National Day 2025
// (10-01..10-08 off, Sunday 09-28 and Saturday 10-11 worked), and the liaison thread's "overdue".
import { describe, expect, it } from 'vitest';
import { loadCalendar } from '../../calendar/load.js';
import { addOfficeHours, officeHoursBetween, parseOfficeHours } from '../../domain/officeHours.js';
import { viewOf } from '../../api/liaison.js';
import type { Config } from '../../config/index.js';
import type { LiaisonMessage } from '../../db/liaison.js';

const calendar = loadCalendar();
const nineToFive = parseOfficeHours('09:00-17:00');
const china = (local: string) => new Date(`${local}+08:00`);

describe('office hours', () => {
  it('When the span is within one working day, then only the open hours count', () => {
    expect(officeHoursBetween(calendar, nineToFive, china('2025-09-29T08:00:00'), china('2025-09-29T12:30:00'))).toBe(3.5);
    expect(officeHoursBetween(calendar, nineToFive, china('2025-09-29T16:00:00'), china('2025-09-29T20:00:00'))).toBe(1);
  });

  it('When the span crosses National Day, then the holidays count nothing and the adjusted Saturday counts', () => {
    // Tue 09-30 16:00 → 17:00 (1 h); 10-01..10-08 off; Thu 10-09 full day (8 h) → Fri 10-10 10:00 (1 h).
    expect(officeHoursBetween(calendar, nineToFive, china('2025-09-30T16:00:00'), china('2025-10-10T10:00:00'))).toBe(10);
    // Fri 10-10 16:00 → Sat 10-11 (worked) 10:00: 1 + 1.
    expect(officeHoursBetween(calendar, nineToFive, china('2025-10-10T16:00:00'), china('2025-10-11T10:00:00'))).toBe(2);
    // Sat 09-27 (weekend) counts nothing, Sun 09-28 (worked) does.
    expect(officeHoursBetween(calendar, nineToFive, china('2025-09-27T09:00:00'), china('2025-09-28T11:00:00'))).toBe(2);
  });

  it('When office hours are added, then the instant lands in open hours past the days off', () => {
    expect(addOfficeHours(calendar, nineToFive, china('2025-09-30T16:00:00'), 8).toISOString()).toBe(china('2025-10-09T16:00:00').toISOString());
    expect(addOfficeHours(calendar, nineToFive, china('2025-09-30T20:00:00'), 1).toISOString()).toBe(china('2025-10-09T10:00:00').toISOString());
  });

  it('When the hours are written wrong, then the error says how to write them', () => {
    expect(() => parseOfficeHours('9-5')).toThrow(/HH:MM-HH:MM/);
    expect(() => parseOfficeHours('17:00-09:00')).toThrow(/close after they open/);
    expect(parseOfficeHours('08:30-17:30')).toEqual({ openMinute: 510, closeMinute: 1050 });
  });
});

describe('a liaison message waiting for its acknowledgement', () => {
  const config = { OFFICE_HOURS: '09:00-17:00', LIAISON_REPLY_HOURS: 8 } as Config;
  const message: LiaisonMessage = {
    messageId: '00000000-0000-4000-8000-000000000001', caseId: '00000000-0000-4000-8000-000000000002', from: 'receiving', to: 'handling',
    author: 'clerk', authorRole: 'clerk', authorRegion: '440100', body: '请确认材料', inReplyTo: null, sentAt: china('2025-09-30T16:00:00').toISOString(),
    acknowledgedAt: null, acknowledgedBy: null, forwardedAt: null, forwardError: null, files: [],
  };

  it('When eight office hours have passed without an acknowledgement, then it is overdue; the holidays in between do not count', () => {
    expect(viewOf({ config, calendar }, message, china('2025-10-08T23:00:00'))).toMatchObject({ waitingOfficeHours: 1, overdue: false });
    expect(viewOf({ config, calendar }, message, china('2025-10-09T15:59:00'))).toMatchObject({ overdue: false });
    expect(viewOf({ config, calendar }, message, china('2025-10-09T16:00:00'))).toMatchObject({ waitingOfficeHours: 8, overdue: true });
  });

  it('When it is acknowledged, then it waits for nothing', () => {
    const acked = { ...message, acknowledgedAt: china('2025-10-09T10:00:00').toISOString(), acknowledgedBy: 'approver' };
    expect(viewOf({ config, calendar }, acked, china('2025-10-20T10:00:00'))).toMatchObject({ waitingOfficeHours: null, overdue: false });
  });
});
