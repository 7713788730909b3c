/**
 * One-line JSON logs. Fields whose names look like credentials are replaced before printing,
 * so a careless `logger.info('x', { apiKey })` cannot leak a secret.
 */
export interface Logger {
  info(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
  error(message: string, fields?: object): void;
}

const SECRET_FIELD = /(api[-_]?key|token|secret|password|authorization|credential|cookie)/i;

function scrub(fields: object | undefined): object | undefined {
  if (!fields) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = SECRET_FIELD.test(key) ? '[redacted]' : value instanceof Error ? value.message : value;
  }
  return out;
}

export function jsonLogger(component: string, write: (line: string) => void = (line) => process.stderr.write(line + '\n')): Logger {
  const emit = (level: string, message: string, fields?: object) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, component, message, ...scrub(fields) }));
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
