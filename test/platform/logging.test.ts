import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, redactUrl } from '../../config/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino(loggerOptions('info'), stream), text: () => lines.join('') };
}

const ID = '11010519491231002X';

describe('log redaction', () => {
  it('When a request with an applicant is logged, then identity number, phone, address and authorization are redacted', () => {
    const { log, text } = capture();
    log.info({ req: { headers: { authorization: 'Bearer secret-token' } }, body: { applicant: { name: '张三', idNumber: ID, phone: '13800138000' } }, delivery: { address: '广州市天河区' } }, 'intake');
    const out = text();
    expect(out).not.toContain(ID);
    expect(out).not.toContain('13800138000');
    expect(out).not.toContain('secret-token');
    expect(out).not.toContain('广州市天河区');
    expect(out).toContain('[REDACTED]');
  });

  it('When an identity number appears in a message or an error, then it is redacted there too', () => {
    const { log, text } = capture();
    log.warn(`province refused applicant ${ID}`);
    const err = new Error(`lookup failed for ${ID}`);
    expect(err.stack).toContain(ID); // formatted before logging, so redaction must cover the stack itself
    log.error({ err }, 'failed');
    const out = text();
    expect(out).not.toContain(ID);
    // The message, the error's message and its stack.
    expect(out.match(/110\[REDACTED\]/g)).toHaveLength(3);
  });
});

describe('secrets in URLs and database errors', () => {
  const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

  it('When a request URL carries a token in its query, then the logged url has it redacted and keeps the rest', () => {
    const { log, text } = capture();
    const urls = [
      `/v1/cases?access_token=${JWT}&limit=5`,
      '/v1/cases?token=opaque-secret-value&itemCode=pension-transfer',
      '/v1/cases?auth=Bearer%20opaque-bearer-value',
      `/v1/cases/${JWT}`,
      '/v1/codec/decode?api_key=k-123456789&x=1',
    ];
    for (const url of urls) log.info({ req: { method: 'GET', url, headers: {} } }, 'incoming request');
    const out = text();
    for (const secret of [JWT, 'opaque-secret-value', 'opaque-bearer-value', 'k-123456789']) expect(out).not.toContain(secret);
    expect(out).toContain('limit=5');
    expect(out).toContain('itemCode=pension-transfer');
    expect(out).toContain('x=1');
    expect(redactUrl('/v1/cases?token=abc&limit=5')).toBe('/v1/cases?token=[REDACTED]&limit=5');
  });

  it('When a PostgreSQL error is logged, then its detail, where, hint, query and parameters are not', () => {
    const { log, text } = capture();
    const pgError = Object.assign(new Error('duplicate key value violates unique constraint "cases_pkey"'), {
      code: '23505',
      detail: 'Key (applicant_name)=(张三丰) already exists.',
      where: 'PL/pgSQL function f() line 3 at SQL statement: 13800138000',
      hint: 'applicant 张三丰',
      internalQuery: "SELECT '张三丰'",
      query: "INSERT INTO cases VALUES ('张三丰')",
      parameters: ['张三丰', '13800138000'],
    });
    log.error({ err: pgError }, 'projection write failed');
    log.warn({ err: new Error('wrapped', { cause: pgError }), cause: pgError }, 'retrying');
    const out = text();
    expect(out).not.toContain('张三丰');
    expect(out).not.toContain('13800138000');
    expect(out).toContain('23505');
    expect(out).toContain('duplicate key value violates unique constraint');
  });
});
