// What JSON.parse resolves silently, or PostgreSQL refuses, in the text of a record JSON.parse
// accepted:
// - a field named twice in one object: JSON.parse (and jsonb) keep the last one, so which value the
//   producer meant is ambiguous;
// - `\u0000`: neither text nor jsonb can hold it (SQLSTATE 22P05 / 22021);
// - an unpaired surrogate escape (`\ud800`): not Unicode; jsonb refuses it (22P02), a text column
//   would silently get U+FFFD instead;
// - a number beyond a double (1e400): JSON.parse makes it Infinity and JSON.stringify `null`;
// - nesting deeper than MAX_DEPTH: JSON.stringify overflows its stack (at a few thousand levels)
//   before PostgreSQL does (54001), and no event of a stream is shaped like that.
// One pass over the text, no allocation per value: string contents are skipped with indexOf, and
// escapes are only decoded where a string has a backslash. On 50,000 card transactions it costs
// about what JSON.parse of the same text costs (jsonc-parser's visitor, which finds duplicates
// only, took 3.7 times as long), so a clean record pays once more what parsing it paid.
import type { QuarantineCode } from './types';

export const MAX_DEPTH = 32;

export interface JsonHazard {
  code: Extract<QuarantineCode, 'DUPLICATE_FIELD' | 'TOO_DEEP' | 'UNSTORABLE_VALUE'>;
  reason: string;
}

interface Frame {
  object: boolean;
  /** Field names seen so far in this object: an array while small, then a Set. */
  keys: string[] | Set<string> | null;
  /** The field whose value is being read (objects), or the element's index (arrays). */
  key: string;
  index: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const U = 117;
/** Past this many fields a linear search for duplicates costs more than a Set. */
const SMALL_OBJECT = 16;
/** More digits than a double can hold without being Infinity (1.8e308 has 309). */
const LONG_NUMBER = 308;

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function pathOf(frames: readonly Frame[], depth = frames.length): string {
  let path = '';
  for (let f = 0; f < depth; f++) {
    const frame = frames[f]!;
    if (!frame.object) path += `[${frame.index}]`;
    else path += PLAIN_NAME.test(frame.key) ? `${path ? '.' : ''}${frame.key}` : `[${JSON.stringify(frame.key)}]`;
  }
  return path || '(root)';
}

const hex = (text: string, at: number): number => {
  const s = text.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(s) ? parseInt(s, 16) : -1;
};

/**
 * Walks the escapes of the string whose first backslash is at `from`; returns the index of its
 * closing quote, or a problem with the escapes and where it ends. The text is valid JSON, so every
 * escape is complete.
 */
function scanEscapes(text: string, from: number): number | { problem: string; end: number } {
  let j = from;
  for (;;) {
    const c = text.charCodeAt(j);
    if (Number.isNaN(c)) return j; // unterminated: not valid JSON, nothing more to say
    if (c === QUOTE) return j;
    if (c !== BACKSLASH) {
      j++;
      continue;
    }
    if (text.charCodeAt(j + 1) !== U) {
      j += 2;
      continue;
    }
    const code = hex(text, j + 2);
    if (code === 0) return { problem: 'contains \\u0000 (NUL), which PostgreSQL cannot store in text or jsonb', end: j + 6 };
    const unpaired = { problem: `contains an unpaired surrogate escape (${text.slice(j, j + 6)}), which is not Unicode text`, end: j + 6 };
    if (code >= 0xdc00 && code <= 0xdfff) return unpaired;
    if (code >= 0xd800 && code <= 0xdbff) {
      const low = text.charCodeAt(j + 6) === BACKSLASH && text.charCodeAt(j + 7) === U ? hex(text, j + 8) : -1;
      if (low < 0xdc00 || low > 0xdfff) return unpaired;
      j += 12;
      continue;
    }
    j += 6;
  }
}

function addKey(frame: Frame, key: string): boolean {
  const keys = frame.keys!;
  if (keys instanceof Set) {
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  }
  for (let k = 0; k < keys.length; k++) if (keys[k] === key) return false;
  keys.push(key);
  if (keys.length > SMALL_OBJECT) frame.keys = new Set(keys);
  return true;
}

/** The first hazard in `text`, which JSON.parse has accepted; undefined when there is none. */
export function jsonHazard(text: string): JsonHazard | undefined {
  if (!isWellFormed(text))
    return { code: 'UNSTORABLE_VALUE', reason: 'the text holds an unpaired UTF-16 surrogate, which is not Unicode text' };
  const n = text.length;
  const frames: Frame[] = [];
  let top: Frame | undefined;
  let expectKey = false;
  let i = 0;
  // The next backslash at or after i, found once rather than once per string (most texts have none).
  let backslash = text.indexOf('\\');
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = text.indexOf('"', i + 1);
      if (end < 0) return undefined;
      if (backslash >= 0 && backslash <= i) backslash = text.indexOf('\\', i + 1);
      const escaped = backslash >= 0 && backslash < end;
      if (escaped) {
        const scanned = scanEscapes(text, backslash);
        if (typeof scanned !== 'number') {
          const name = text.slice(i, Math.min(scanned.end, i + 41));
          const where = expectKey ? `the field name ${name}… in ${pathOf(frames, frames.length - 1)}` : pathOf(frames);
          return { code: 'UNSTORABLE_VALUE', reason: `${where}: ${scanned.problem}` };
        }
        end = scanned;
      }
      if (expectKey && top) {
        const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        top.key = key;
        if (!addKey(top, key))
          return {
            code: 'DUPLICATE_FIELD',
            reason: `${pathOf(frames)} is named twice in one object; which of its values is meant is ambiguous`,
          };
        expectKey = false;
      }
      i = end + 1;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (frames.length >= MAX_DEPTH) return { code: 'TOO_DEEP', reason: `nested deeper than ${MAX_DEPTH} levels (at ${pathOf(frames)})` };
      top = { object: c === 123, keys: c === 123 ? [] : null, key: '', index: 0 };
      frames.push(top);
      expectKey = top.object;
      i++;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      frames.pop();
      top = frames[frames.length - 1];
      expectKey = false;
      i++;
    } else if (c === 44 /* , */) {
      if (top?.object) expectKey = true;
      else if (top) top.index++;
      i++;
    } else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let j = i + 1;
      let exponent = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 101 || d === 69) exponent = true;
        else if (!((d >= 48 && d <= 57) || d === 46 || d === 43 || d === 45)) break;
      }
      if ((exponent || j - i > LONG_NUMBER) && !Number.isFinite(Number(text.slice(i, j)))) {
        return {
          code: 'UNSTORABLE_VALUE',
          reason: `${pathOf(frames)}: the number ${text.slice(i, Math.min(j, i + 40))}${j - i > 40 ? '…' : ''} is beyond the range of a double; it would be stored as null`,
        };
      }
      i = j;
    } else {
      i++;
    }
  }
  return undefined;
}
