// What a live heap gained between two V8 heap snapshots (`bench:soak --heap-snapshots DIR` writes them):
// objects counted and sized by kind (constructor name, closure name, strings together), the largest
// growths first. Run: npx tsx bench/heapDiff.ts EARLIER.heapsnapshot LATER.heapsnapshot [top]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Kind {
  count: number;
  bytes: number;
}

/** A name per kind of object: strings and code lumped by type, objects by constructor, closures by name. */
function kindName(type: string, name: string): string {
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number') return `(${type})`;
  if (type === 'code' || type === 'hidden' || type === 'symbol' || type === 'bigint') return `(${type}) ${name.slice(0, 40)}`;
  if (type === 'closure') return `closure ${name || '(anonymous)'}`;
  if (type === 'array') return `(array) ${name.slice(0, 40)}`;
  return name.slice(0, 80);
}

function kinds(file: string): { byKind: Map<string, Kind>; total: Kind } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [TYPE, NAME, SIZE] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const byKind = new Map<string, Kind>();
  const total: Kind = { count: 0, bytes: 0 };
  for (let i = 0; i < snap.nodes.length; i += width) {
    const key = kindName(types[snap.nodes[i + TYPE]!]!, snap.strings[snap.nodes[i + NAME]!]!);
    const size = snap.nodes[i + SIZE]!;
    const k = byKind.get(key) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += size;
    byKind.set(key, k);
    total.count++;
    total.bytes += size;
  }
  return { byKind, total };
}

const [earlierFile, laterFile, topArg] = process.argv.slice(2);
if (!earlierFile || !laterFile) {
  console.error('usage: tsx bench/heapDiff.ts EARLIER.heapsnapshot LATER.heapsnapshot [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const a = kinds(earlierFile);
const b = kinds(laterFile);
const mib = (n: number) => (n / 2 ** 20).toFixed(2);
console.log(`live heap: ${mib(a.total.bytes)} MiB (${a.total.count} objects) → ${mib(b.total.bytes)} MiB (${b.total.count} objects)`);
const rows = [...new Set([...a.byKind.keys(), ...b.byKind.keys()])].map((key) => {
  const x = a.byKind.get(key) ?? { count: 0, bytes: 0 };
  const y = b.byKind.get(key) ?? { count: 0, bytes: 0 };
  return { key, dCount: y.count - x.count, dBytes: y.bytes - x.bytes, count: y.count, bytes: y.bytes };
});
rows.sort((p, q) => Math.abs(q.dBytes) - Math.abs(p.dBytes));
for (const r of rows.slice(0, top)) {
  console.log(
    `${r.dBytes >= 0 ? '+' : ''}${(r.dBytes / 1024).toFixed(1)} KiB  ${r.dCount >= 0 ? '+' : ''}${r.dCount} objects  (now ${r.count}, ${(r.bytes / 1024).toFixed(0)} KiB)  ${r.key}`,
  );
}
