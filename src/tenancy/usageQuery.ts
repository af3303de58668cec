// The one reading of a usage query (`GET /usage?key=&from=&to=&groupBy=`, `usage export`): dates as
// ISO 8601 (a bare YYYY-MM-DD is midnight UTC), the range at most ~13 months so a single call stays bounded.
import { isKeyId } from './apiKeys.ts';
import { TenancyInputError } from './errors.ts';
import type { UsageGroupBy } from './usage.ts';

const GROUPS: readonly UsageGroupBy[] = ['day', 'model', 'stream', 'key'];
const MAX_RANGE_MS = 400 * 86_400_000;

export interface UsageQuery {
  key?: string;
  from: Date;
  to: Date;
  groupBy: UsageGroupBy;
}

function date(name: string, v: string): Date {
  if (v.length > 40 || !/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v))
    throw new TenancyInputError(`${name} must be a date like 2026-11-01 or 2026-11-01T12:00:00Z`);
  const d = new Date(v.length === 10 ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(d.getTime())) throw new TenancyInputError(`${name} "${v}" is not a date`);
  return d;
}

/** `get` reads a parameter ('' or undefined = not given). Default range: this calendar month (UTC) up to now. */
export function parseUsageQuery(get: (name: string) => string | undefined | null, now = new Date()): UsageQuery {
  const key = get('key') ?? '';
  if (key && !isKeyId(key) && !/^anon:[0-9a-fA-F:.]{2,45}(\/64)?$/.test(key))
    throw new TenancyInputError('key must be a key id (16 hex digits, from `keys list`) or anon:<address> (anon:<prefix>::/64 for IPv6)');
  const fromText = get('from') ?? '';
  const toText = get('to') ?? '';
  const from = fromText ? date('from', fromText) : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = toText ? date('to', toText) : new Date(now.getTime() + 1);
  if (to.getTime() <= from.getTime()) throw new TenancyInputError('to must be after from');
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw new TenancyInputError('the range is at most 400 days; ask for several ranges');
  const groupBy = (get('groupBy') || 'day') as UsageGroupBy;
  if (!GROUPS.includes(groupBy)) throw new TenancyInputError(`groupBy must be one of ${GROUPS.join(', ')}`);
  return { ...(key ? { key } : {}), from, to, groupBy };
}
