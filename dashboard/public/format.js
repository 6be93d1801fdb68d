// Number and time formatting in the reader's locale. Amounts are EUR; times are UTC, like the
// pipeline's calendar columns, so what the page shows matches what SQL and the CSV say.
const locale = navigator.language || 'en-US';

const eur = new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR' });
const eurCompact = new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR', notation: 'compact', maximumFractionDigits: 1 });
const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
const date = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const day = new Intl.DateTimeFormat(locale, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' });

export const money = (v) => (v === null || v === undefined ? '–' : eur.format(Number(v)));
export const moneyAxis = (v) => eurCompact.format(Number(v));
export const count = (v) => (v === null || v === undefined ? '–' : integer.format(Number(v)));
export const countAxis = (v) => compact.format(Number(v));
export const rate = (v) => (v === null || v === undefined ? '–' : percent.format(v));
/** Two lines, time over date: narrow enough for a phone's axis (Chart.js draws arrays as lines). */
export const hourLabel = (iso) => [time.format(new Date(iso)), date.format(new Date(iso))];
export const dayLabel = (date) => day.format(new Date(`${date}T00:00:00Z`));
/** "2026-11-22T13:05:12.345Z" -> "2026-11-22 13:05:12": sortable, unambiguous, UTC. */
export const utcTime = (iso) => (iso ? iso.slice(0, 19).replace('T', ' ') : '–');

export const BUCKET_LABELS = {
  '<20': 'under €20',
  '20-100': '€20–100',
  '100-250': '€100–250',
  '250-500': '€250–500',
  '>=500': '€500 and more',
};
