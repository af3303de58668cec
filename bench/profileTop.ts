// The top items of a V8 CPU profile (from `node --cpu-prof`): self time per function and per package.
// Run: npx tsx bench/profileTop.ts <file.cpuprofile> [count]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: profileTop.ts <file.cpuprofile> [count]');
const count = Number(process.argv[3]) || 25;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (const [i, id] of profile.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));

/** Where a frame's code lives: a package name, our own file, or the engine. */
function owner(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/(src|scripts|dist)\/(.*)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url || '(engine)';
}

const fns = new Map<string, number>();
const owners = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const { functionName, url, lineNumber } = n.callFrame;
  const key = `${functionName || '(anonymous)'} ${owner(url)}:${lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  total += us;
  if (functionName === '(idle)') continue;
  owners.set(owner(url), (owners.get(owner(url)) ?? 0) + us);
}
const idle = [...fns].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
const busy = total - idle;
const show = (title: string, m: Map<string, number>) => {
  console.log(`${title} (self time; ${(busy / 1e6).toFixed(2)} s busy of ${(total / 1e6).toFixed(2)} s sampled)`);
  for (const [k, us] of [...m]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${k}`);
  }
};
show('functions', fns);
show('by package or file', owners);
