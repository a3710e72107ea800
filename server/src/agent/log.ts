import { shows, type LogLevel } from './domain/log-level.js';

export interface Logger {
  level: LogLevel;
  error(text: string): void;
  warn(text: string): void;
  info(text: string): void;
  debug(text: string): void;
}

/** One line per event on stderr (journald keeps it); the level can be changed while running. */
export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const logger: Logger = {
    level,
    error: (text) => emit('error', text),
    warn: (text) => emit('warn', text),
    info: (text) => emit('info', text),
    debug: (text) => emit('debug', text),
  };
  function emit(at: LogLevel, text: string): void {
    if (shows(logger.level, at)) write(`${at}: ${text}\n`);
  }
  return logger;
}
