// Schema drift: the fields records carry that their stream's schema does not declare. The pass
// (activities/transform-load/pass.ts) tallies them per bronze object, that is per load, and the
// load records the tally beside itself (load_drift), so `etl stream drift` can say what producers
// started sending, how often, and where it was first seen. A pure function of the bytes: the same
// object always gives the same tally.
import type { StreamSpec } from './types';

/** Distinct undeclared fields one load tracks by name (the records carrying any are all counted). */
export const MAX_DRIFT_FIELDS = 100;
/** Characters of a field's name kept (in the tally and in an UNDECLARED_FIELD reason). */
export const MAX_FIELD_NAME_CHARS = 200;
/** Fields an UNDECLARED_FIELD reason names; the others are counted. */
const REASON_FIELDS = 10;

/** An undeclared field as one load saw it. */
export interface FieldDrift {
  field: string;
  /** Records of the load that carried it. */
  records: number;
  /** Where it was first seen in the load's bronze object: the record's Kafka partition (a file's version) and offset (its line). */
  firstPartition: number;
  firstOffset: string;
}

/** The drift of one load. */
export interface LoadDrift {
  /** In the order first seen. */
  fields: FieldDrift[];
  /** Records that carried any undeclared field (tracked by name or not). */
  records: number;
}

/** The fields of a parsed record that `spec` does not declare, in the record's order; undefined when there are none or it declares no field list. */
export function undeclaredFieldsOf(spec: Pick<StreamSpec, 'declaredFields'>, value: object): string[] | undefined {
  const declared = spec.declaredFields;
  if (!declared) return undefined;
  let out: string[] | undefined;
  for (const field in value) if (!declared.has(field)) (out ??= []).push(field);
  return out;
}

/** A field's name as recorded: at most MAX_FIELD_NAME_CHARS characters (whole code points), an ellipsis when cut. */
export function fieldName(field: string): string {
  if (field.length <= MAX_FIELD_NAME_CHARS) return field;
  return `${Array.from(field).slice(0, MAX_FIELD_NAME_CHARS).join('')}…`;
}

/** The reason of an UNDECLARED_FIELD quarantine: the fields, by name, in the record's order. */
export function undeclaredReason(fields: readonly string[]): string {
  const named = fields.slice(0, REASON_FIELDS).map((f) => JSON.stringify(fieldName(f)));
  const more = fields.length > REASON_FIELDS ? ` and ${fields.length - REASON_FIELDS} more` : '';
  return `${fields.length === 1 ? 'field' : `${fields.length} fields`} not declared by the stream's schema: ${named.join(', ')}${more} (its declaration says undeclaredFields: 'quarantine')`;
}

/** The tally of one load, record by record, bounded by MAX_DRIFT_FIELDS whatever arrives. */
export class DriftTally {
  private readonly fields = new Map<string, FieldDrift>();
  private records = 0;

  add(fields: readonly string[], at: { partition: number; offset: string }): void {
    this.records++;
    let cut: Set<string> | undefined; // names cut to the same first characters count once per record
    for (const f of fields) {
      const name = fieldName(f);
      if (name !== f) {
        if (cut?.has(name)) continue;
        (cut ??= new Set()).add(name);
      }
      const seen = this.fields.get(name);
      if (seen) seen.records++;
      else if (this.fields.size < MAX_DRIFT_FIELDS)
        this.fields.set(name, { field: name, records: 1, firstPartition: at.partition, firstOffset: at.offset });
    }
  }

  result(): LoadDrift {
    return { fields: [...this.fields.values()], records: this.records };
  }
}
