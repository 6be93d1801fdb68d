// How one archived Kafka record becomes either a silver row or a quarantine reason. Shared by the
// transform activity and by replays of quarantined records, so both apply the same rules.
import type { BronzeRecord } from '../lib/lake';
import { undeclaredFieldsOf, undeclaredReason } from './drift';
import { jsonHazard } from './json-scan';
import type { QuarantineCode, StreamSpec, ValidationContext, ValidationResult } from './types';

/**
 * The default of MAX_VALUE_BYTES (lib/config.ts): a card transaction is ~250 bytes; anything this big
 * is not one, and is kept out of the parser.
 */
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024;
export const MAX_FIELDS = 100;

/**
 * A record's classification, with the fields it carries that its stream does not declare (drift,
 * ./drift.ts): known once the value parsed as a storable object, whatever its rules then said.
 */
export type Classified = ValidationResult & { undeclared?: readonly string[] };

/**
 * Decodes one archived Kafka value and validates it against the stream; `context` is all it knows
 * besides the bytes, `maxValueBytes` (MAX_VALUE_BYTES) the largest value it parses.
 */
export function classifyRecord(
  spec: StreamSpec,
  record: BronzeRecord,
  context: ValidationContext,
  maxValueBytes = DEFAULT_MAX_VALUE_BYTES,
): Classified {
  if (record.defect) return { ok: false, code: fileDefectCode(record.defect.code), reason: record.defect.reason };
  if (record.encoding === 'null' || record.value === null)
    return { ok: false, code: 'NULL_VALUE', reason: 'message value is null (tombstone)' };
  const bytes = Buffer.byteLength(record.value, record.encoding === 'base64' ? 'base64' : 'utf8');
  if (bytes > maxValueBytes)
    return {
      ok: false,
      code: 'TOO_LARGE',
      reason: `message value is ${bytes} bytes; at most ${maxValueBytes} are accepted (MAX_VALUE_BYTES)`,
    };
  if (record.encoding === 'base64') return { ok: false, code: 'NOT_UTF8', reason: 'message value is not valid UTF-8' };
  if (record.value.trim() === '') return { ok: false, code: 'EMPTY_VALUE', reason: 'message value is empty' };
  let value: unknown;
  try {
    value = JSON.parse(record.value);
  } catch (err) {
    return { ok: false, code: 'MALFORMED_JSON', reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      code: 'NOT_AN_OBJECT',
      reason: `JSON value is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not an object`,
    };
  }
  const fields = Object.keys(value).length;
  if (fields > MAX_FIELDS)
    return { ok: false, code: 'TOO_MANY_FIELDS', reason: `object has ${fields} fields; at most ${MAX_FIELDS} are accepted` };
  // Ambiguous (a field named twice) or unstorable (NUL, unpaired surrogates, numbers beyond a
  // double, absurd nesting) JSON is decided on the text: the parsed value no longer shows it.
  const hazard = jsonHazard(record.value);
  if (hazard) return { ok: false, ...hazard };
  const undeclared = undeclaredFieldsOf(spec, value);
  let result: ValidationResult;
  try {
    result = spec.validate(value, context);
  } catch (err) {
    // A rule or an enrichment step that throws on one record must not fail its whole object.
    return {
      ok: false,
      code: 'ENRICH_FAILED',
      reason: `the stream's rules threw on this record: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
      ...(undeclared ? { undeclared } : {}),
    };
  }
  if (!undeclared) return result.ok ? { ok: true, row: { ...result.row, payload: value } } : result;
  // Its rules are judged first: a record quarantined as UNDECLARED_FIELD would load once its fields are declared.
  if (result.ok && spec.undeclaredFields === 'quarantine')
    return { ok: false, code: 'UNDECLARED_FIELD', reason: undeclaredReason(undeclared), undeclared };
  return result.ok ? { ok: true, row: { ...result.row, payload: value }, undeclared } : { ...result, undeclared };
}

const FILE_DEFECTS: readonly QuarantineCode[] = ['CSV_CELL_COUNT', 'CSV_MALFORMED', 'NOT_UTF8', 'TOO_LARGE'];

/** A defect a file source noted on a line (lib/lake.ts BronzeRecord.defect): one of its codes, else CSV_MALFORMED. */
function fileDefectCode(code: string): QuarantineCode {
  return FILE_DEFECTS.find((c) => c === code) ?? 'CSV_MALFORMED';
}

/** A silver line: the stream's flat row, the original payload, and where the record came from. */
export function silverDoc(
  row: Record<string, unknown>,
  record: Pick<BronzeRecord, 'topic' | 'partition' | 'offset'>,
  bronzeObjectId?: number,
): Record<string, unknown> {
  return {
    ...row,
    kafka_topic: record.topic,
    kafka_partition: record.partition,
    kafka_offset: record.offset,
    ...(bronzeObjectId === undefined ? {} : { bronze_object_id: bronzeObjectId }),
  };
}
