// The addons `npm ci` builds from native/ into build/ (scripts/native.mjs). Each is optional: where it is
// not built (no compiler, no node headers, another system) the caller has a slower way.
import { createRequire } from 'node:module';

/** build/<name>.node (the same path from src/lib and dist/lib), or undefined where it is not built or does not load. */
export function loadBuiltAddon<T>(name: string): T | undefined {
  try {
    return createRequire(import.meta.url)(`../../build/${name}.node`) as T;
  } catch {
    return undefined;
  }
}
