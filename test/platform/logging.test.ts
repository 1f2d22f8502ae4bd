import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from '../../config/logger.js';

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
