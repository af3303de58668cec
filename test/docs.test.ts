// The project's docs are what code comments cite: every `docs/<page>.md §N` in the code, and every
// `<page>.md §N` or `§N` inside the docs, must name a page and a section that exist.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = join(ROOT, 'docs');
/** Pages that code cites; a citation of one of these names must point into docs/. */
const PAGE_NAMES = ['architecture', 'wire', 'payments', 'contracts', 'node', 'ai', 'remote-signer'];

function files(dir: string, exts: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : files(path, exts);
    return exts.test(e.name) ? [path] : [];
  });
}

/** Section numbers of a docs page: "## 7. POST /segment" is 7, "### 7.5 Failures" is 7.5. */
function sections(page: string): Set<string> | undefined {
  let text: string;
  try {
    text = readFileSync(join(DOCS, `${page}.md`), 'utf8');
  } catch {
    return undefined;
  }
  return new Set([...text.matchAll(/^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s/gm)].map((m) => m[1]!));
}

const sectionsOf = new Map<string, Set<string> | undefined>();
function check(page: string, section: string | undefined, where: string, problems: string[]): void {
  if (!sectionsOf.has(page)) sectionsOf.set(page, sections(page));
  const have = sectionsOf.get(page);
  if (!have) problems.push(`${where}: docs/${page}.md does not exist`);
  else if (section !== undefined && !have.has(section)) problems.push(`${where}: docs/${page}.md has no §${section}`);
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

describe('docs citations', () => {
  it('code, scripts, tests and benchmarks cite existing sections of docs/', () => {
    const problems: string[] = [];
    const cited = new RegExp(`(docs/)?\\b(${PAGE_NAMES.join('|')})\\.md\\b(?:\\s+§(\\d+(?:\\.\\d+)*))?`, 'g');
    const sources = ['src', 'scripts', 'test', 'bench'].flatMap((d) => files(join(ROOT, d), /\.(ts|mts|mjs|cjs|js)$/));
    for (const file of [...sources, join(ROOT, '.dependency-cruiser.cjs')]) {
      if (file === fileURLToPath(import.meta.url)) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(cited)) {
        const where = `${relative(ROOT, file)}:${lineOf(text, m.index)}`;
        if (!m[1]) problems.push(`${where}: cites ${m[2]}.md; cite the project's docs/${m[2]}.md`);
        else check(m[2]!, m[3], where, problems);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('the docs refer to sections that exist, on their own page and on others', () => {
    const problems: string[] = [];
    for (const file of files(DOCS, /\.md$/)) {
      const page = relative(DOCS, file).replace(/\.md$/, '');
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/§(\d+(?:\.\d+)*)/g)) {
        // "payments.md §6", "[wire.md](wire.md) §4.7", or a bare "§8.3" on the same page
        const before = /([a-z-]+)\.md\)?\s+$/.exec(text.slice(Math.max(0, m.index - 40), m.index));
        check(before?.[1] ?? page, m[1], `docs/${page}.md:${lineOf(text, m.index)}`, problems);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('the README indexes every page of docs/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const missing = files(DOCS, /\.md$/)
      .map((f) => `docs/${relative(DOCS, f)}`)
      .filter((p) => !readme.includes(`(${p})`));
    assert.deepEqual(missing, []);
  });
});
