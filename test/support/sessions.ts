// Windows of simulated time whose content does not depend on when a test runs. A window that ends
// "now" holds a stock's session at some hours and days and none at others (a run at 07:10 UTC had
// no AAPL tick at all); these are anchored to the market calendar instead.
import { sessionAt } from '../../streams/ticks/sessions';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * 15:00 UTC on the latest Tuesday on or before the day a week before `nowMs` (6 to 14 days back):
 * New York's regular session
 * (09:30-16:00 local is 13:30-20:00 UTC in summer, 14:30-21:00 in winter) holds the five hours
 * after it whatever the season, and about a week back keeps the ticks well inside what validation accepts
 * around their archive time (about now).
 */
export function recentRegularSessionStart(nowMs = Date.now()): number {
  const weekAgo = Math.floor((nowMs - 7 * DAY_MS) / DAY_MS) * DAY_MS;
  const tuesday = weekAgo - ((new Date(weekAgo).getUTCDay() - 2 + 7) % 7) * DAY_MS;
  const start = tuesday + 15 * HOUR_MS;
  if (sessionAt(start, 'stock') !== 'regular' || sessionAt(start + 5 * HOUR_MS - 1, 'stock') !== 'regular') {
    throw new Error(`${new Date(start).toISOString()} is not five hours of regular session`);
  }
  return start;
}
