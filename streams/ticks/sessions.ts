// US equity trading sessions, on the New York wall clock: pre-market 04:00-09:30, regular
// 09:30-16:00, after-hours 16:00-20:00, closed otherwise and at weekends. Crypto trades around the
// clock. Exchange holidays are not modelled: on a holiday a tick gets the session its clock says.
import type { AssetClass, Session } from './vocabulary';

const NEW_YORK = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});
const HOUR_MS = 3_600_000;

// New York's UTC offset changes only at 02:00 local, which is always a whole UTC hour (07:00 UTC in
// March, 06:00 UTC in November): within one UTC hour the offset is constant, so Intl is asked once
// per hour rather than once per tick.
const offsetByHour = new Map<number, number>();

function newYorkOffsetMs(utcMs: number): number {
  const hour = Math.floor(utcMs / HOUR_MS);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    const p = Object.fromEntries(NEW_YORK.formatToParts(new Date(hour * HOUR_MS)).map((x) => [x.type, x.value]));
    offset = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute)) - hour * HOUR_MS;
    if (offsetByHour.size > 50_000) offsetByHour.clear();
    offsetByHour.set(hour, offset);
  }
  return offset;
}

/** New York wall-clock weekday (0 = Sunday) and minutes since local midnight. */
export function newYorkClock(utcMs: number): { weekday: number; minuteOfDay: number } {
  const local = new Date(utcMs + newYorkOffsetMs(utcMs));
  return { weekday: local.getUTCDay(), minuteOfDay: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

const PRE_OPEN = 4 * 60;
const REGULAR_OPEN = 9 * 60 + 30;
const REGULAR_CLOSE = 16 * 60;
const POST_CLOSE = 20 * 60;

export function sessionAt(utcMs: number, assetClass: AssetClass): Session {
  if (assetClass === 'crypto') return 'continuous';
  const { weekday, minuteOfDay: m } = newYorkClock(utcMs);
  if (weekday === 0 || weekday === 6) return 'closed';
  if (m >= PRE_OPEN && m < REGULAR_OPEN) return 'pre';
  if (m >= REGULAR_OPEN && m < REGULAR_CLOSE) return 'regular';
  if (m >= REGULAR_CLOSE && m < POST_CLOSE) return 'post';
  return 'closed';
}
