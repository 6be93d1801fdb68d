// The rows the direct-COPY fast path writes, encoded from a silver doc as CSV with exactly the
// meaning the staging path gives the same doc's silver line: `(doc->>'col')::type` of its JSON.
import type { StreamSpec } from '../../streams/types';

export interface RowTarget {
  loadId: number;
  bronzeObjectId: number;
}

/**
 * A top-level value as the silver line holds it after JSON.stringify: a Date (anything with toJSON)
 * becomes what it serializes to, a number JSON cannot hold becomes null, what JSON drops is absent.
 * Nested values need nothing: csvField serializes them whole.
 */
function asInSilverLine(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return JSON.parse(JSON.stringify(value)) as unknown;
  return value;
}

/** One CSV field with the meaning `(doc->>'col')::type` gives it: null is NULL, objects are JSON text. */
export function csvField(raw: unknown): string {
  const value = asInSilverLine(raw);
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value); // no quoting needed: digits, sign, dot, exponent
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.includes('"') ? `"${text.replaceAll('"', '""')}"` : `"${text}"`;
}

type Doc = Record<string, unknown>;

export const LINEAGE = 'load_id, bronze_object_id, kafka_topic, kafka_partition, kafka_offset';

function lineageFields(doc: Doc, target: RowTarget): string {
  return [target.loadId, doc.bronze_object_id ?? target.bronzeObjectId, doc.kafka_topic, doc.kafka_partition, doc.kafka_offset]
    .map(csvField)
    .join(',');
}

/** The raw-table row and the flat-table row of one silver doc, each a CSV line with its newline. */
export function copyRows(doc: Doc, spec: StreamSpec, target: RowTarget): { raw: string; flat: string } {
  const key = csvField(doc[spec.keyColumn]);
  const lineage = lineageFields(doc, target);
  return {
    raw: `${key},${csvField(doc[spec.eventTimeColumn])},${csvField(doc.payload)},${lineage}\n`,
    flat: `${key},${spec.flatColumns.map((c) => csvField(doc[c])).join(',')},${lineage}\n`,
  };
}
