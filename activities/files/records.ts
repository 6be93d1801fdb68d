// From a file's bytes to its records, streaming: lines (bounded in length), then JSONL values or
// CSV rows typed for the stream (streams/csv.ts). Nothing here stops at a bad line: a line that is
// not UTF-8, too long to keep, or a CSV row that does not parse or has the wrong number of cells
// becomes a record with a defect (the transform quarantines it with its original bytes, file and
// line). Only a file that cannot be read at all (no usable CSV header) fails as a whole.
import { parse as parseCsv } from 'csv-parse/sync';
import { encodeValue } from '../../lib/lake';
import { csvRowObject, headerProblem, type CsvCell } from '../../streams/csv';
import type { StreamSpec } from '../../streams/types';
import { EtlError } from '../../lib/errors';

/** A line longer than this is not kept whole (memory stays flat whatever a file holds). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** What is kept of a line that is too long, as its payload. */
export const KEPT_BYTES = 64 * 1024;

export interface FileLine {
  /** 1-based line number. */
  line: number;
  bytes: Buffer;
  /** The line was longer than MAX_LINE_BYTES: `bytes` holds its first KEPT_BYTES. */
  truncated: boolean;
  length: number;
}

/** The lines of a byte stream, split at \n (a \r before it stays in `bytes`; the record readers drop it). */
export async function* readLines(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<FileLine> {
  let line = 1;
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  const take = (piece: Buffer) => {
    length += piece.length;
    if (kept < MAX_LINE_BYTES) {
      parts.push(piece);
      kept += piece.length;
    }
  };
  const finish = (): FileLine => {
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const truncated = length > MAX_LINE_BYTES;
    if (truncated) bytes = bytes.subarray(0, KEPT_BYTES);
    const out = { line: line++, bytes, truncated, length };
    parts = [];
    kept = 0;
    length = 0;
    return out;
  };
  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < chunk.length) take(Buffer.from(chunk.subarray(start)));
  }
  if (length > 0 || parts.length > 0) yield finish();
}

/** One record of a file, before it becomes a bronze record. */
export interface FileRecord {
  /** Line the record starts on. */
  line: number;
  /** Line it ends on (a CSV row with a quoted newline spans several). */
  endLine: number;
  value: string | null;
  encoding: 'utf8' | 'base64' | 'null';
  defect?: { code: string; reason: string };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');
const BOM = '\uFEFF';

function textOf(l: FileLine): string | undefined {
  try {
    let text = utf8.decode(l.bytes);
    if (l.line === 1 && text.startsWith(BOM)) text = text.slice(1);
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  } catch {
    return undefined;
  }
}

function tooLong(l: FileLine, endLine = l.line): FileRecord {
  return {
    line: l.line,
    endLine,
    ...encodeValue(l.bytes),
    defect: {
      code: 'TOO_LARGE',
      reason: `line ${l.line} is ${l.length} bytes; at most ${MAX_LINE_BYTES} are read, the first ${KEPT_BYTES} are kept`,
    },
  };
}

/** JSONL / NDJSON: one value per line; blank lines are not records. */
export async function* jsonlRecords(lines: AsyncIterable<FileLine>): AsyncGenerator<FileRecord> {
  for await (const l of lines) {
    if (l.truncated) {
      yield tooLong(l);
      continue;
    }
    const text = textOf(l);
    if (text === undefined) {
      // Not UTF-8: kept as base64 of its exact bytes; the transform quarantines it as NOT_UTF8.
      yield { line: l.line, endLine: l.line, ...encodeValue(l.bytes) };
      continue;
    }
    if (text.trim() === '') continue;
    yield { line: l.line, endLine: l.line, value: text, encoding: 'utf8' };
  }
}

const CSV_OPTIONS = {
  relax_column_count: true,
  skip_empty_lines: true,
  cast: (value: string, context: { quoting: boolean }) => ({ text: value, quoted: context.quoting }) as unknown as string,
};

/** The quotes of a text: an odd count leaves a quoted field open (RFC 4180: "" inside a field counts twice). */
const quotes = (text: string) => {
  let n = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) n++;
  return n;
};

/**
 * CSV with a header row: rows are grouped from lines by their quotes (a row ends at a newline
 * outside quotes), each row parsed by csv-parse on its own, so a broken row costs only itself. A
 * quote left open for MAX_LINE_BYTES makes only its first line malformed; the lines after it are
 * read again as rows of their own.
 */
export async function* csvRecords(lines: AsyncIterable<FileLine>, spec: Pick<StreamSpec, 'inputTypes'>): AsyncGenerator<FileRecord> {
  let header: string[] | undefined;
  const pending: FileLine[] = []; // lines read again after an unclosed quote
  let group: { lines: FileLine[]; texts: string[]; bytes: number; quotes: number; bad: boolean } | undefined;
  const iterator = lines[Symbol.asyncIterator]();
  const next = async (): Promise<FileLine | undefined> => pending.shift() ?? (await iterator.next()).value ?? undefined;

  const rowOf = (g: NonNullable<typeof group>): FileRecord | undefined => {
    const first = g.lines[0]!;
    const last = g.lines.at(-1)!;
    const text = g.texts.join('\n');
    const at = { line: first.line, endLine: last.line };
    if (g.bad) {
      return { ...at, ...encodeValue(Buffer.concat(g.lines.flatMap((l, i) => (i ? [Buffer.from('\n'), l.bytes] : [l.bytes])))) };
    }
    let rows: CsvCell[][];
    try {
      rows = parseCsv(text, CSV_OPTIONS) as unknown as CsvCell[][];
    } catch (err) {
      return {
        ...at,
        value: text,
        encoding: 'utf8',
        defect: { code: 'CSV_MALFORMED', reason: `line ${first.line}: ${(err as Error).message}` },
      };
    }
    if (rows.length === 0) return undefined;
    if (rows.length > 1) {
      return {
        ...at,
        value: text,
        encoding: 'utf8',
        defect: { code: 'CSV_MALFORMED', reason: `line ${first.line}: more than one row on one line` },
      };
    }
    const cells = rows[0]!;
    if (!header) {
      header = cells.map((c) => c.text.trim());
      const problem = headerProblem(header);
      if (problem) throw new EtlError('FILE_UNREADABLE', `CSV header (line ${first.line}): ${problem}`);
      return undefined;
    }
    if (cells.length !== header.length) {
      return {
        ...at,
        value: text,
        encoding: 'utf8',
        defect: { code: 'CSV_CELL_COUNT', reason: `line ${first.line} has ${cells.length} cells; the header has ${header.length} columns` },
      };
    }
    return { ...at, value: JSON.stringify(csvRowObject(spec, header, cells)), encoding: 'utf8' };
  };

  for (;;) {
    const l = await next();
    if (!l && !group) break;
    if (!l || (group && group.quotes % 2 === 1 && group.bytes > MAX_LINE_BYTES)) {
      // A quote left open (for MAX_LINE_BYTES, or to the end of the file): its first line is the
      // malformed row, and the lines after it are read again as rows of their own.
      const [first, ...rest] = group!.lines;
      pending.unshift(...rest, ...(l ? [l] : []));
      group = undefined;
      const where = l ? `within ${MAX_LINE_BYTES} bytes` : 'before the end of the file';
      yield {
        line: first!.line,
        endLine: first!.line,
        ...encodeValue(first!.bytes),
        defect: { code: 'CSV_MALFORMED', reason: `line ${first!.line}: a quote opened here is not closed ${where}` },
      };
      continue;
    }
    if (l.truncated) {
      // A line too long to keep ends whatever row it was in.
      const start = group?.lines[0] ?? l;
      group = undefined;
      yield tooLong({ ...l, line: start.line }, l.line);
      continue;
    }
    const decoded = textOf(l);
    const text = decoded ?? lenient.decode(l.bytes).replace(/\r$/, '');
    group ??= { lines: [], texts: [], bytes: 0, quotes: 0, bad: false };
    group.lines.push(l);
    group.texts.push(text);
    group.bytes += l.bytes.length;
    group.quotes += quotes(text);
    group.bad ||= decoded === undefined;
    if (group.quotes % 2 === 1) continue;
    const g = group;
    group = undefined;
    const record = rowOf(g);
    if (record) yield record;
  }
}
