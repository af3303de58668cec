// The fixed time windows counters count in: UTC minutes, hours, days and calendar months, so every
// instance (and the operator reading a dashboard) agrees where "today" and "this month" begin.

export const PERIODS = ['minute', 'hour', 'day', 'month'] as const;
export type Period = (typeof PERIODS)[number];

export interface TimeWindow {
  start: Date;
  /** exclusive */
  end: Date;
}

export function isPeriod(p: unknown): p is Period {
  return typeof p === 'string' && (PERIODS as readonly string[]).includes(p);
}

export function windowOf(period: Period, at: Date): TimeWindow {
  const t = at.getTime();
  switch (period) {
    case 'minute':
    case 'hour': {
      const len = period === 'minute' ? 60_000 : 3_600_000;
      const start = Math.floor(t / len) * len;
      return { start: new Date(start), end: new Date(start + len) };
    }
    case 'day': {
      const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
      return { start: new Date(start), end: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1)) };
    }
    case 'month':
      return { start: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)), end: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)) };
  }
}

/** The window a counter that was last written in `storedStart` counts in now: never an earlier one. */
export function effectiveWindow(period: Period, at: Date, storedStart: Date | undefined): { window: TimeWindow; continues: boolean } {
  const current = windowOf(period, at);
  if (storedStart && storedStart.getTime() >= current.start.getTime()) {
    return { window: windowOf(period, storedStart), continues: true };
  }
  return { window: current, continues: false };
}
