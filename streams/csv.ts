// How a CSV row becomes the JSON object a stream's schema validates (docs/files.md, "CSV typing").
// The schema stays the one validator: this only decides which JSON type each cell is handed over
// as, from what the schema accepts for its column (StreamSpec.inputTypes), never from the looks of
// the text alone (a merchant called "123" stays a string):
//  - a column the schema accepts as a string (or does not know) keeps the cell's text exactly;
//  - one it accepts only as a number or integer gets the number when the text is a JSON number
//    (`12.5`, `-3`, `1e3`; no `+`, no thousands separators, no comma decimals), else the text, which
//    the schema then rejects with the column's name;
//  - one it accepts only as a boolean gets true/false from `true`/`false` (any case), else the text;
//  - one it accepts only as an object or array gets the cell parsed as JSON, else the text;
//  - an empty unquoted cell is a missing field (the schema says whether that is allowed); a quoted
//    empty cell ("") is the empty string;
//  - timestamps are text: the schema reads them (ISO 8601 with an offset, never a local time zone).
import type { StreamSpec } from './types';

/** One cell as csv-parse gave it: its text, and whether it was quoted. */
export interface CsvCell {
  text: string;
  quoted: boolean;
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** The JSON value of one cell of a column, by what the schema accepts there; undefined = missing. */
export function typeCell(cell: CsvCell, accepts: readonly string[] | undefined): unknown {
  if (cell.text === '' && !cell.quoted) return undefined;
  if (!accepts || accepts.includes('string')) return cell.text;
  const text = cell.text.trim();
  if ((accepts.includes('number') || accepts.includes('integer')) && JSON_NUMBER.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n)) return n;
  }
  if (accepts.includes('boolean') && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if ((accepts.includes('object') || accepts.includes('array')) && /^[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return cell.text;
    }
  }
  if (accepts.includes('null') && text === 'null') return null;
  return cell.text;
}

/** The object of one row: columns by header name, each cell typed for the stream. */
export function csvRowObject(
  spec: Pick<StreamSpec, 'inputTypes'>,
  header: readonly string[],
  cells: readonly CsvCell[],
): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  header.forEach((name, i) => {
    const value = typeCell(cells[i]!, spec.inputTypes?.[name]);
    if (value !== undefined) row[name] = value;
  });
  return row;
}

/** A header row's problem (empty or repeated column names), or undefined when it can name columns. */
export function headerProblem(header: readonly string[]): string | undefined {
  if (header.length === 0) return 'the header row is empty';
  const empty = header.findIndex((h) => h.trim() === '');
  if (empty >= 0) return `column ${empty + 1} of the header row has no name`;
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) return `column "${h}" is named twice in the header row`;
    seen.add(h);
  }
  return undefined;
}
