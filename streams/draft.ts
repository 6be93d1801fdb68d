// A declaration drafted from a sample of records (`etl stream init`, ./infer.ts): what each field
// was found to be, and the two forms of it — the zod schema and enrichment a StreamSpec is built
// from here, and the same written as code (./render.ts) — side by side in one table, so the module
// the user reviews declares exactly what was checked against the sample.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineStream } from './define';
import type { ColumnDecl, StreamSpec } from './types';

/**
 * What a field holds, as far as the sample tells:
 * - integer, decimal, float: JSON numbers (or CSV cells that read as them);
 * - decimal_text: decimals (or whole numbers too large for a double) written as strings, kept exact;
 * - timestamptz: ISO 8601 with an offset or Z; local_time: one without, kept as text (never read in a local zone);
 * - json: objects, arrays, or values of mixed JSON types, kept whole as jsonb.
 */
export type FieldKind =
  'integer' | 'decimal' | 'float' | 'decimal_text' | 'boolean' | 'uuid' | 'date' | 'timestamptz' | 'local_time' | 'text' | 'json';

export interface DraftField {
  /** The field's name in the records. */
  field: string;
  /** Its flat column: a plain SQL identifier. */
  column: string;
  kind: FieldKind;
  sqlType: string;
  /** Present and not null in every sampled record: required by the schema, not null in the table. */
  required: boolean;
  /** uuid only: every value was an RFC 9562 UUID (z.uuid()); otherwise any 8-4-4-4-12 hex (z.guid()). */
  strictUuid?: boolean;
  /** A closed vocabulary the field seemed to have; `sure` ones become acceptedValues, the others a comment. */
  vocabulary?: { values: readonly string[]; sure: boolean; why: string };
  /** Why the field got its kind, when a reader would ask (rendered as a comment). */
  note?: string;
}

export type DraftKey = { field: string; note: string } | { digestColumn: string; note: string };

export interface StreamDraft {
  name: string;
  /** The Kafka topic (before KAFKA_TOPIC_PREFIX) when it is not the name. */
  topic?: string;
  rawTable: string;
  flatTable: string;
  /** Where the sample came from, for the module's header. */
  source: string;
  sampled: number;
  /** Every field, the key's included, in the order the records first showed them. */
  fields: readonly DraftField[];
  key: DraftKey;
  /** The field holding the event time (a required timestamptz). */
  eventTime: string;
  /** Why that one (rendered as a comment). */
  eventTimeNote: string;
}

/** A decimal written as a string: digits, a point, digits (or whole digits, for integers beyond a double). */
export const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

interface KindForms {
  /** The zod schema of a present value; what it outputs is the flat value. */
  zod(f: DraftField): z.ZodType;
  /** The same, as code after `z.`. */
  code(f: DraftField): string;
}

const plain = (zod: () => z.ZodType, code: string): KindForms => ({ zod, code: () => code });

const KINDS: Record<FieldKind, KindForms> = {
  integer: plain(() => z.number().int(), 'number().int()'),
  decimal: plain(() => z.number(), 'number()'),
  float: plain(() => z.number(), 'number()'),
  // The rendered module declares DECIMAL as DECIMAL_TEXT's source.
  decimal_text: plain(() => z.string().regex(DECIMAL_TEXT), 'string().regex(DECIMAL)'),
  boolean: plain(() => z.boolean(), 'boolean()'),
  uuid: {
    zod: (f) => (f.strictUuid ? z.uuid() : z.guid()),
    code: (f) => (f.strictUuid ? 'uuid()' : 'guid()'),
  },
  date: plain(() => z.iso.date(), 'iso.date()'),
  timestamptz: plain(() => z.iso.datetime({ offset: true }), 'iso.datetime({ offset: true })'),
  local_time: plain(() => z.string(), 'string()'),
  text: plain(() => z.string(), 'string()'),
  // As JSON text: `doc->>'col'` of a JSON string is its bare text, which is no jsonb; its JSON text is.
  json: plain(() => z.json().transform((v) => JSON.stringify(v)), 'json().transform((v) => JSON.stringify(v))'),
};

/** The schema of one field as code, `z.` included. */
export function zodCode(f: DraftField): string {
  return `z.${KINDS[f.kind].code(f)}${f.required ? '' : '.nullish()'}`;
}

/** The record digest used as the key when no field can be one: the declared fields, in declared order. */
export const DIGEST_CODE = "createHash('sha256').update(JSON.stringify(e)).digest('hex')";
const digest = (e: unknown) => createHash('sha256').update(JSON.stringify(e)).digest('hex');

export const keyField = (d: StreamDraft) =>
  'field' in d.key ? d.fields.find((f) => f.field === (d.key as { field: string }).field) : undefined;

/** The key column: the key field's, or the digest's. */
export function keyDecl(d: StreamDraft): ColumnDecl {
  const k = keyField(d);
  return k ? { name: k.column, type: k.sqlType } : { name: (d.key as { digestColumn: string }).digestColumn, type: 'text' };
}

/** The flat columns (the key's aside), as the declaration lists them. */
export function columnDecls(d: StreamDraft): ColumnDecl[] {
  const k = keyField(d);
  return d.fields
    .filter((f) => f !== k)
    .map((f) => ({
      name: f.column,
      type: f.sqlType,
      ...(f.required ? { notNull: true } : {}),
      ...(f.vocabulary?.sure ? { acceptedValues: f.vocabulary.values } : {}),
    }));
}

export const eventTimeColumn = (d: StreamDraft) => d.fields.find((f) => f.field === d.eventTime)!.column;

/** The stream the draft declares, built as its rendered module builds it. */
export function draftStream(d: StreamDraft): StreamSpec {
  const schema = z.object(
    Object.fromEntries(d.fields.map((f) => [f.field, f.required ? KINDS[f.kind].zod(f) : KINDS[f.kind].zod(f).nullish()])),
  );
  const k = keyField(d);
  return defineStream({
    name: d.name,
    ...(d.topic ? { topic: d.topic } : {}),
    schema,
    enrich: (e: Record<string, unknown>) => {
      const row: Record<string, unknown> = k ? {} : { [keyDecl(d).name]: digest(e) };
      for (const f of d.fields) row[f.column] = e[f.field] ?? null;
      return row;
    },
    rawTable: d.rawTable,
    flatTable: d.flatTable,
    key: keyDecl(d),
    eventTimeColumn: eventTimeColumn(d),
    columns: columnDecls(d),
  });
}
