// A pino logger whose lines a test can read back: as text (to look for what must never be logged) or
// as parsed JSON objects (to check fields and levels).
import { Writable } from 'node:stream';
import { pino } from 'pino';

export interface CapturedLog {
  log: pino.Logger;
  /** everything logged so far, one JSON line per entry */
  text(): string;
  /** the entries logged so far, parsed */
  lines(): Record<string, unknown>[];
}

export function captureLog(level: pino.LevelWithSilent = 'trace'): CapturedLog {
  let text = '';
  const log = pino(
    { level },
    new Writable({
      write: (c, _e, cb) => {
        text += c;
        cb();
      },
    }),
  );
  const lines = () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, text: () => text, lines };
}
