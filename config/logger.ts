// One pino configuration for api, worker and scripts: citizens' data never reaches a log line.
// Known fields are redacted by path; anything shaped like an identity number is redacted from
// every message as a second fence.
import pino, { type LoggerOptions } from 'pino';
import { redactIdNumbers } from '../crypto/pii.js';

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-tongban-signature"]',
  '*.idNumber', '*.*.idNumber', '*.phone', '*.*.phone', '*.address', '*.*.address',
  'applicant', '*.applicant',
  'secret', '*.secret', 'password', '*.password',
];

export function loggerOptions(level: string, name = 'tongban'): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactIdNumbers(a) : a)) as Parameters<typeof method>);
      },
    },
    serializers: {
      err(err: Error) {
        const out = pino.stdSerializers.err(err);
        return { ...out, message: redactIdNumbers(out.message), stack: out.stack ? redactIdNumbers(out.stack) : out.stack };
      },
    },
  };
}
