import { pino, type Logger } from 'pino';

export type { Logger };

/** One structured logger; secrets are redacted wherever they appear in a logged object. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'password',
        '*.password',
        '*.*.password',
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'req.headers.authorization',
        'secret',
        '*.secret',
        'rtspUrl',
        '*.rtspUrl',
      ],
      censor: '[redacted]',
    },
  });
}
