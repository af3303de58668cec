// The error a promise must reject with: checked to be of the type named and handed back for the test to
// look into (assert.rejects checks an error but does not return it).
import assert from 'node:assert/strict';

export async function rejection<E extends Error>(p: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${type.name}, but it resolved`);
}
