// Whether PostgreSQL can store a flat row as its stream declares it, decided before the COPY: each
// declared column type gets a guard with the rules PostgreSQL applies to it (text holds no NUL;
// numeric(p,s) holds fewer than p-s digits before the point once rounded to s; smallint, integer,
// bigint have their ranges; date and timestamptz hold 4-digit years from 0001 and real calendar
// dates). A row that fails one is quarantined by the transform (UNSTORABLE_VALUE) instead of
// failing its object's load. Types without a guard here are left to the load, which isolates
// the rows PostgreSQL refuses (LOAD_REJECTED).
import type { ColumnDecl, ValidationResult } from './types';

/** A problem with one value, or undefined when PostgreSQL will take it. */
type Guard = (value: unknown) => string | undefined;

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function textProblem(text: string, maxChars?: number): string | undefined {
  if (text.includes('\0')) return 'contains NUL (U+0000), which PostgreSQL text cannot hold';
  if (!isWellFormed(text)) return 'contains an unpaired UTF-16 surrogate, which is not Unicode text';
  // Characters, as PostgreSQL counts them: code points, not UTF-16 units.
  if (maxChars !== undefined && text.length > maxChars && [...text].length > maxChars) return `is longer than ${maxChars} characters`;
  return undefined;
}

/** The text COPY and `doc->>'col'` give a JSON value: strings as they are, anything else as JSON. */
const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

const text =
  (maxChars?: number): Guard =>
  (v) =>
    textProblem(asText(v), maxChars);

const INTEGER_RANGES: Record<string, readonly [bigint, bigint]> = {
  smallint: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
};

const integer = (type: string): Guard => {
  const [min, max] = INTEGER_RANGES[type]!;
  const [minN, maxN] = [Number(min), Number(max)];
  return (v) => {
    if (typeof v === 'number' && Number.isSafeInteger(v))
      return v < minN || v > maxN ? `is out of ${type} range (${min} to ${max})` : undefined;
    const s = typeof v === 'string' ? v.trim() : '';
    if (!/^[+-]?\d{1,20}$/.test(s)) return `is not a ${type} (a whole number)`;
    const n = BigInt(s);
    return n < min || n > max ? `is out of ${type} range (${min} to ${max})` : undefined;
  };
};

/** Digits before and after the point of a decimal in plain or exponent notation; undefined if it is none. */
function decimalDigits(s: string): { int: string; frac: string } | undefined {
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/.exec(s.trim());
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
  const whole = m[1] ?? '';
  const digits = whole + (m[2] ?? '');
  const point = whole.length + Number(m[3] ?? 0);
  if (point <= 0) return { int: '', frac: '0'.repeat(-point) + digits };
  return { int: digits.slice(0, point).padEnd(point, '0'), frac: digits.slice(point) };
}

const numeric =
  (precision: number, scale: number): Guard =>
  (v) => {
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : typeof v === 'string' ? v : '';
    const d = decimalDigits(s);
    if (!d) return `is not a number numeric(${precision},${scale}) can hold`;
    // PostgreSQL rounds half away from zero to the scale, then counts the digits left of the point:
    // 9.995 in numeric(3,2) rounds to 10.00 and overflows.
    const int = d.int.replace(/^0+/, '');
    const carries = (d.frac[scale] ?? '0') >= '5' && /^9*$/.test(d.frac.slice(0, scale));
    const digits = carries && /^9*$/.test(int) ? int.length + 1 : int.length;
    return digits > precision - scale
      ? `does not fit numeric(${precision},${scale}) (at most ${precision - scale} digits before the point)`
      : undefined;
  };

const real =
  (max: number, type: string): Guard =>
  (v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) && Math.abs(n) <= max ? undefined : `is not a finite ${type}`;
  };

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const uuid: Guard = (v) => (typeof v === 'string' && UUID.test(v) ? undefined : 'is not a UUID');

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function calendarDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= DAYS_IN_MONTH[m - 1]! + (m === 2 && leap ? 1 : 0);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const date: Guard = (v) => {
  const m = typeof v === 'string' ? DATE.exec(v) : null;
  return m && calendarDate(Number(m[1]), Number(m[2]), Number(m[3]))
    ? undefined
    : 'is not a date YYYY-MM-DD between 0001-01-01 and 9999-12-31';
};

// ISO-8601 as toISOString writes it (with an offset or Z): PostgreSQL reads 4-digit years only
// (toISOString's +010000-… is refused), and year 0 does not exist.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const timestamp: Guard = (v) => {
  const m = typeof v === 'string' ? TIMESTAMP.exec(v) : null;
  const ok = m && calendarDate(Number(m[1]), Number(m[2]), Number(m[3])) && Number(m[4]) <= 23 && Number(m[5]) <= 59 && Number(m[6]) <= 59;
  return ok ? undefined : 'is not an ISO-8601 timestamp with a year between 0001 and 9999';
};

const boolean: Guard = (v) => (typeof v === 'boolean' ? undefined : 'is not a boolean');

/** The guard of a declared column type, or undefined for a type this file has no rules for. */
export function guardFor(type: string): Guard | undefined {
  const t = type.trim().toLowerCase();
  const sized = /^(character varying|varchar|character|char)\s*\((\d+)\)$/.exec(t);
  if (sized) return text(Number(sized[2]));
  const num = /^(numeric|decimal)\s*\((\d+)(?:,\s*(\d+))?\)$/.exec(t);
  if (num) return numeric(Number(num[2]), Number(num[3] ?? 0));
  switch (t) {
    case 'text':
    case 'varchar':
    case 'character varying':
      return text();
    case 'smallint':
    case 'int2':
      return integer('smallint');
    case 'integer':
    case 'int':
    case 'int4':
      return integer('integer');
    case 'bigint':
    case 'int8':
      return integer('bigint');
    case 'numeric':
    case 'decimal':
      return real(Number.MAX_VALUE, 'number');
    case 'real':
    case 'float4':
      return real(3.4028234663852886e38, 'real');
    case 'double precision':
    case 'float8':
      return real(Number.MAX_VALUE, 'double precision');
    case 'uuid':
      return uuid;
    case 'date':
      return date;
    case 'timestamptz':
    case 'timestamp with time zone':
    case 'timestamp':
    case 'timestamp without time zone':
      return timestamp;
    case 'boolean':
    case 'bool':
      return boolean;
    default:
      return undefined;
  }
}

interface ColumnGuard {
  name: string;
  notNull: boolean;
  guard: Guard | undefined;
}

/**
 * Wraps a stream's validator: an accepted row is checked against the declared columns, and one
 * PostgreSQL would refuse becomes UNSTORABLE_VALUE. Extra arguments pass through unchanged.
 */
export function rejectUnstorable<A extends unknown[]>(
  validate: (value: unknown, ...rest: A) => ValidationResult,
  columns: readonly ColumnDecl[],
) {
  const guards: ColumnGuard[] = columns.map((c) => ({ name: c.name, notNull: c.notNull ?? false, guard: guardFor(c.type) }));
  return (value: unknown, ...rest: A): ValidationResult => {
    const result = validate(value, ...rest);
    if (!result.ok) return result;
    for (const { name, notNull, guard } of guards) {
      const v = result.row[name];
      if (v === null || v === undefined) {
        if (notNull) return { ok: false, code: 'UNSTORABLE_VALUE', reason: `${name}: is null, and the column is declared not null` };
        continue;
      }
      const problem = guard?.(v);
      if (problem) return { ok: false, code: 'UNSTORABLE_VALUE', reason: `${name}: ${preview(v)} ${problem}` };
    }
    return result;
  };
}

function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
