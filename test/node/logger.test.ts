// Log lines for people on a terminal, JSON lines for machines, secrets hidden either way.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { createLogger } from '../../src/node/logger.ts';

function sink(tty: boolean): { stream: Writable; text(): string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out += chunk;
      cb();
    },
  });
  if (tty) Object.assign(stream, { isTTY: true });
  return { stream, text: () => out };
}

describe('logger', () => {
  it('auto: human-readable lines on a terminal, without JSON', () => {
    const s = sink(true);
    const log = createLogger(3, s.stream);
    log.info({ manifestId: 'cam', ethPassword: 'hunter2' }, 'stream started');
    log.debug('not at -v 3');
    const line = s.text();
    assert.match(line, /INFO/);
    assert.match(line, /stream started/);
    assert.match(line, /manifestId/);
    assert.ok(!line.trimStart().startsWith('{'), `not JSON: ${line}`);
    assert.ok(!line.includes('hunter2'), 'secrets hidden');
    assert.ok(!line.includes('not at -v 3'));
    assert.equal(line.trim().split('\n').length, 1, 'one line per entry');
  });

  it('auto: JSON lines when the log is not a terminal; -logFormat json/text force either', () => {
    const pipe = sink(false);
    createLogger(3, pipe.stream).info({ password: 'pw' }, 'hello');
    const entry = JSON.parse(pipe.text());
    assert.equal(entry.msg, 'hello');
    assert.equal(entry.password, '***');

    const forcedJson = sink(true);
    createLogger(3, forcedJson.stream, 'json').info('x');
    assert.equal(JSON.parse(forcedJson.text()).msg, 'x');

    const forcedText = sink(false);
    createLogger(3, forcedText.stream, 'text').warn('careful');
    assert.match(forcedText.text(), /WARN.*careful/);
    assert.ok(!forcedText.text().includes('\u001b['), 'no colours when not a terminal');
  });

  it('-logFormat is checked', () => {
    assert.equal(buildNodeConfig(new Map()).logFormat, 'auto');
    assert.equal(buildNodeConfig(new Map([['logFormat', 'json']])).logFormat, 'json');
    assert.throws(() => buildNodeConfig(new Map([['logFormat', 'yaml']])), /-logFormat: "yaml" is not one of auto, json, text/);
  });
});
