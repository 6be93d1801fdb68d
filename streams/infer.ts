// From a sample of records to a draft declaration (./draft.ts): `etl stream init`. Pure: the
// records are handed in, nothing is read here. Every decision is made on what the sample shows,
// with the checks the drafted schema will itself run (zod's, and the column guards of
// ./storable.ts), so the sample it was inferred from passes the declaration it gets.
import { z } from 'zod';
import { EtlError } from '../lib/errors';
import type { DraftField, DraftKey, FieldKind, StreamDraft } from './draft';
import { guardFor } from './storable';

/** A JSON number with the text it was written as: 12.50 keeps its scale. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** A JSON value whose numbers are JsonNumbers (their source text, as JSON.parse's reviver sees it). */
export function parseSampleJson(text: string): unknown {
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && context?.source !== undefined ? new JsonNumber(context.source) : value,
  );
}

export interface InferOptions {
  name: string;
  topic?: string;
  /** Where the sample came from, for the module's header. */
  source: string;
  /** CSV: every value is a cell's text, typed by how it reads (as the file source types it for the schema). */
  cells: boolean;
}

/** Distinct values a text field may show and still be offered as a closed vocabulary. */
export const MAX_VOCABULARY = 20;
/** A vocabulary whose every value was seen at least this often is offered as accepted values; else commented out. */
export const SURE_VOCABULARY_COUNT = 3;
const MAX_VOCABULARY_VALUE_CHARS = 64;
/** Significant digits a double holds exactly: more, and a decimal is kept as text. */
const DOUBLE_DIGITS = 15;

type Shape =
  | { t: 'int'; intDigits: number; safe: boolean; value: number }
  | { t: 'dec'; intDigits: number; scale: number; digits: number }
  | { t: 'float' }
  | { t: 'bool' }
  | { t: 'instant' }
  | { t: 'local' }
  | { t: 'uuid'; strict: boolean }
  | { t: 'date' }
  | { t: 'dectext'; intDigits: number; scale: number }
  | { t: 'inttext'; intDigits: number }
  | { t: 'text' }
  | { t: 'object' };

const INSTANT = z.iso.datetime({ offset: true });
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const INT = /^-?(0|[1-9]\d*)$/;
const DEC = /^-?(0|[1-9]\d*)\.(\d+)$/;
const NUMBER_WITH_EXPONENT = /^-?(0|[1-9]\d*)(\.\d+)?[eE][+-]?\d+$/;
const storableInstant = guardFor('timestamptz')!;
const storableDate = guardFor('date')!;

function numberShape(text: string, cells: boolean): Shape {
  const int = INT.exec(text);
  if (int) {
    const value = Number(text);
    return { t: 'int', intDigits: text.replace('-', '').length, safe: Number.isSafeInteger(value), value };
  }
  const dec = DEC.exec(text);
  if (dec) {
    const intDigits = dec[1]!.replace(/^0$/, '').length;
    const digits = (dec[1]! + dec[2]!).replace(/^0+/, '').length;
    // A JSON number with more digits than a double holds is a double's shortest text (0.1 * 3 is
    // 0.30000000000000004), not a decimal with that scale; JSON.parse has rounded it anyway.
    if (!cells && digits > DOUBLE_DIGITS) return { t: 'float' };
    return { t: 'dec', intDigits, scale: dec[2]!.length, digits };
  }
  return { t: 'float' };
}

function stringShape(s: string, cells: boolean): Shape {
  if (cells) {
    if (INT.test(s) || DEC.test(s) || NUMBER_WITH_EXPONENT.test(s)) {
      const n = numberShape(s, true);
      // A cell the file source would turn into a double that cannot hold it exactly stays text.
      if (n.t === 'int' && !n.safe) return { t: 'dectext', intDigits: n.intDigits, scale: 0 };
      if (n.t === 'dec' && n.digits > DOUBLE_DIGITS) return { t: 'dectext', intDigits: n.intDigits, scale: n.scale };
      return n;
    }
    if (/^(true|false)$/i.test(s)) return { t: 'bool' };
  } else {
    const dec = DEC.exec(s);
    if (dec) return { t: 'dectext', intDigits: dec[1]!.replace(/^0$/, '').length, scale: dec[2]!.length };
    // A whole number in a string is text (an account number, a zip code) unless decimals beside it say otherwise.
    if (INT.test(s)) return { t: 'inttext', intDigits: s.replace('-', '').length };
  }
  if (INSTANT.safeParse(s).success && storableInstant(s) === undefined) return { t: 'instant' };
  if (LOCAL_TIME.test(s)) return { t: 'local' };
  if (z.guid().safeParse(s).success) return { t: 'uuid', strict: z.uuid().safeParse(s).success };
  if (z.iso.date().safeParse(s).success && storableDate(s) === undefined) return { t: 'date' };
  return { t: 'text' };
}

function shapeOf(v: unknown, cells: boolean): Shape {
  if (v instanceof JsonNumber) return numberShape(v.text, false);
  if (typeof v === 'number') return numberShape(String(v), false);
  if (typeof v === 'boolean') return { t: 'bool' };
  if (typeof v === 'string') return stringShape(v, cells);
  return { t: 'object' };
}

interface Stats {
  field: string;
  present: number;
  shapes: Shape[];
  /** Text values and how often each was seen; undefined once there are too many to be a vocabulary. */
  counts: Map<string, number> | undefined;
  texts: Set<string>;
  /** Every text value was distinct so far (a key candidate). */
  unique: boolean;
}

function kindOf(shapes: readonly Shape[], cells: boolean): { kind: FieldKind; note?: string } {
  const ts = new Set(shapes.map((s) => s.t));
  const only = (...allowed: Shape['t'][]) => [...ts].every((t) => allowed.includes(t));
  if (ts.size === 0) return { kind: 'text', note: 'only nulls in the sample: typed as text' };
  if (only('int') && shapes.every((s) => s.t === 'int' && s.safe)) return { kind: 'integer' };
  if (only('int', 'dec')) return { kind: 'decimal' };
  if (only('int', 'dec', 'float')) return { kind: 'float' };
  if (ts.has('dectext') && (cells ? only('dectext', 'int', 'dec') : only('dectext', 'inttext'))) return { kind: 'decimal_text' };
  if (only('bool')) return { kind: 'boolean' };
  if (only('uuid')) return { kind: 'uuid' };
  if (only('instant')) return { kind: 'timestamptz' };
  if (only('date')) return { kind: 'date' };
  if (only('local'))
    return {
      kind: 'local_time',
      note: 'a time without an offset: kept as text, since reading it in some local time zone would be a guess',
    };
  if (only('local', 'instant'))
    return { kind: 'local_time', note: 'times with and without an offset: kept as text, since one without cannot be placed in time' };
  if (only('object')) return { kind: 'json' };
  // A CSV cell that is not a number, a boolean or a time everywhere is the cell's text everywhere.
  if (cells) return { kind: 'text' };
  if (ts.has('object') || !only('text', 'inttext', 'instant', 'local', 'uuid', 'date', 'dectext'))
    return { kind: 'json', note: 'values of more than one JSON type: kept whole as jsonb' };
  return { kind: 'text' };
}

function sqlTypeOf(kind: FieldKind, shapes: readonly Shape[]): string {
  switch (kind) {
    case 'integer':
      return shapes.every((s) => s.t === 'int' && Math.abs(s.value) <= 2_147_483_647) ? 'integer' : 'bigint';
    case 'decimal':
    case 'decimal_text': {
      let intDigits = 1;
      let scale = 0;
      for (const s of shapes) {
        if (s.t === 'int' || s.t === 'dec' || s.t === 'dectext' || s.t === 'inttext') intDigits = Math.max(intDigits, s.intDigits);
        if (s.t === 'dec' || s.t === 'dectext') scale = Math.max(scale, s.scale);
      }
      // Room for larger values than the sample's: widening a numeric later is a migration, a refused row is data lost.
      return `numeric(${Math.min(1000, Math.max(18, intDigits + scale + 3))},${scale})`;
    }
    case 'float':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'uuid':
      return 'uuid';
    case 'date':
      return 'date';
    case 'timestamptz':
      return 'timestamptz';
    case 'json':
      return 'jsonb';
    default:
      return 'text';
  }
}

const RESERVED_COLUMNS = new Set([
  'payload',
  'ingested_at',
  'load_id',
  'bronze_object_id',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
]);

/** A plain SQL identifier for a field name: snake_case, [a-z0-9_], not one the tables use themselves. */
export function columnName(field: string, taken: ReadonlySet<string>): string {
  let base = field
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 50);
  if (base === '') base = 'field';
  if (/^\d/.test(base)) base = `f_${base}`;
  if (RESERVED_COLUMNS.has(base) || base === 'event_ts') base = `${base}_value`;
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}

function vocabularyOf(st: Stats): DraftField['vocabulary'] {
  if (!st.counts || st.counts.size < 2 || st.counts.size > MAX_VOCABULARY) return undefined;
  // Each value seen twice on average at least: otherwise the field looks open (names, ids), not a vocabulary.
  if (st.counts.size * 2 > st.present) return undefined;
  const values = [...st.counts.keys()].sort();
  const rarest = Math.min(...st.counts.values());
  const sure = rarest >= SURE_VOCABULARY_COUNT;
  const why = sure
    ? `${values.length} values, each seen ${rarest} times or more in ${st.present} records`
    : `${values.length} values in ${st.present} records, one seen only ${rarest === 1 ? 'once' : 'twice'}: there may be others`;
  return { values, sure, why };
}

const KEY_KINDS: readonly FieldKind[] = ['uuid', 'integer', 'text'];
const KEY_NAME = /(^|_)(id|key|uuid|no|number)$/;
const TIME_NAMES = ['event_ts', 'event_time', 'timestamp', 'ts', 'time', 'occurred_at', 'created_at'];

function keyOf(fields: readonly DraftField[], stats: ReadonlyMap<string, Stats>, sampled: number, eventTime: string): DraftKey {
  const candidates = fields.filter((f) => f.required && KEY_KINDS.includes(f.kind) && f.field !== eventTime && stats.get(f.field)!.unique);
  const rank = (f: DraftField) => (f.kind === 'uuid' ? 0 : 2) + (KEY_NAME.test(f.column) ? 0 : 1) + (f.kind === 'text' ? 2 : 0);
  const [best, ...others] = [...candidates].sort((a, b) => rank(a) - rank(b));
  if (best) {
    const also = others.length ? `; also unique: ${others.map((f) => f.field).join(', ')}` : '';
    return { field: best.field, note: `${best.field}: present and unique in all ${sampled} sampled records${also}` };
  }
  const taken = new Set(fields.map((f) => f.column));
  return {
    digestColumn: columnName('record_id', taken),
    note: `no field was present and unique in all ${sampled} sampled records, so the key is a digest of the record's declared fields: the same record sent twice loads once. Replace it with the field that identifies a record, if there is one.`,
  };
}

function eventTimeOf(fields: readonly DraftField[]): { field: string; note: string } {
  const times = fields.filter((f) => f.kind === 'timestamptz' && f.required);
  const named = (f: DraftField) => {
    const i = TIME_NAMES.indexOf(f.column);
    return i >= 0 ? i : /(_at|_ts|_time)$/.test(f.column) ? TIME_NAMES.length : TIME_NAMES.length + 1;
  };
  const [best, ...others] = [...times].sort((a, b) => named(a) - named(b));
  if (best) {
    const also = others.length ? `; the other ones: ${others.map((f) => f.field).join(', ')}` : '';
    return { field: best.field, note: `${best.field}, a timestamp with an offset in every sampled record${also}.` };
  }
  const local = fields.filter((f) => f.kind === 'local_time').map((f) => f.field);
  const someTimes = fields.filter((f) => f.kind === 'timestamptz').map((f) => f.field);
  throw new EtlError(
    'USAGE',
    'no field holds a timestamp with an offset (ISO 8601, e.g. 2026-01-31T09:30:00Z) in every sampled record, and a stream needs one as its event time' +
      (someTimes.length ? `; ${someTimes.join(', ')} ${someTimes.length > 1 ? 'are' : 'is'} missing in some records` : '') +
      (local.length
        ? `; ${local.join(', ')} ${local.length > 1 ? 'have' : 'has'} times without an offset, which cannot be placed in time`
        : ''),
  );
}

/** The draft declaration of the stream `records` were sampled from (objects; anything else is not a record). */
export function inferDraft(records: readonly Record<string, unknown>[], o: InferOptions): StreamDraft {
  if (records.length === 0) throw new EtlError('USAGE', `${o.source} holds no JSON object to infer a declaration from`);
  const stats = new Map<string, Stats>();
  for (const r of records) {
    for (const [field, v] of Object.entries(r)) {
      let st = stats.get(field);
      if (!st) stats.set(field, (st = { field, present: 0, shapes: [], counts: new Map(), texts: new Set(), unique: true }));
      if (v === null || v === undefined) continue;
      st.present++;
      st.shapes.push(shapeOf(v, o.cells));
      const text = v instanceof JsonNumber ? v.text : typeof v === 'string' ? v : undefined;
      if (text === undefined) {
        st.unique = false;
        st.counts = undefined;
        continue;
      }
      if (st.texts.has(text)) st.unique = false;
      st.texts.add(text);
      if (st.counts && (text.length > MAX_VOCABULARY_VALUE_CHARS || (!st.counts.has(text) && st.counts.size >= MAX_VOCABULARY)))
        st.counts = undefined;
      st.counts?.set(text, (st.counts.get(text) ?? 0) + 1);
    }
  }
  const taken = new Set<string>();
  const fields: DraftField[] = [...stats.values()].map((st) => {
    const { kind, note } = kindOf(st.shapes, o.cells);
    const column = columnName(st.field, taken);
    taken.add(column);
    const uuid = st.shapes.every((s) => s.t !== 'uuid' || s.strict);
    const vocabulary = kind === 'text' ? vocabularyOf(st) : undefined;
    return {
      field: st.field,
      column,
      kind,
      sqlType: sqlTypeOf(kind, st.shapes),
      required: st.present === records.length,
      ...(kind === 'uuid' ? { strictUuid: uuid } : {}),
      ...(vocabulary ? { vocabulary } : {}),
      ...(note ? { note } : {}),
    };
  });
  const eventTime = eventTimeOf(fields);
  const key = keyOf(fields, stats, records.length, eventTime.field);
  // A key that is a whole number will grow past what the sample showed; it cannot be widened later.
  const keyed = fields.map((f) => ('field' in key && f.field === key.field && f.kind === 'integer' ? { ...f, sqlType: 'bigint' } : f));
  return {
    name: o.name,
    ...(o.topic && o.topic !== o.name ? { topic: o.topic } : {}),
    rawTable: `raw_${o.name}`,
    flatTable: `${o.name}_flat`,
    source: o.source,
    sampled: records.length,
    fields: keyed,
    key,
    eventTime: eventTime.field,
    eventTimeNote: eventTime.note,
  };
}
