import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** One structured logger; secrets are redacted wherever they appear in a logged object. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
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
        'pullUrl',
        '*.pullUrl',
        'credentials',
        '*.credentials',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
