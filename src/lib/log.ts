// One logger shape for the whole code base: pino's. A module takes a Logger (never an optional one or
// a callback) and makes children with the fields it adds; `silentLogger` stands in where nobody listens.
import { pino, type Logger } from 'pino';

export type { Logger };

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
