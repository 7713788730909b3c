import { destination, pino, stdTimeFunctions, type DestinationStream } from 'pino';

/**
 * One-line JSON logs, through pino. Fields whose names look like credentials are replaced before printing,
 * so a careless `logger.info('x', { apiKey })` cannot leak a secret.
 */
export interface Logger {
  info(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
  error(message: string, fields?: object): void;
}

const SECRET_FIELD = /(api[-_]?key|token|secret|password|authorization|credential|cookie)/i;

function scrub(fields: object | undefined): object {
  if (!fields) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = SECRET_FIELD.test(key) ? '[redacted]' : value instanceof Error ? value.message : value;
  }
  return out;
}

/** One asynchronous stderr writer per process (sonic-boom): a log line never blocks a request; pino flushes it at exit. */
let stderr: DestinationStream | undefined;

/**
 * A pino logger that prints `{"level":"info","time":"<ISO>","component":...,"message":...,...fields}`.
 * `write` receives each line without its newline (tests capture them); by default lines go to stderr.
 */
export function jsonLogger(component: string, write?: (line: string) => void): Logger {
  const out: DestinationStream = write
    ? { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) }
    : (stderr ??= destination({ dest: 2, sync: false }));
  const log = pino(
    {
      base: { component },
      messageKey: 'message',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    out,
  );
  return {
    info: (message, fields) => log.info(scrub(fields), message),
    warn: (message, fields) => log.warn(scrub(fields), message),
    error: (message, fields) => log.error(scrub(fields), message),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
