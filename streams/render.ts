// A draft declaration (./draft.ts) as the TypeScript module `etl stream init` writes for the user to
// review: the code ./draft.ts builds the stream from, with comments where the sample left a
// choice open. Pure. The text is laid out as Prettier lays it out with the project's settings
// (.prettierrc.json: 140 columns, single quotes, trailing commas), so it passes `npm run lint`.
import {
  columnDecls,
  DECIMAL_TEXT,
  DIGEST_CODE,
  eventTimeColumn,
  keyDecl,
  keyField,
  zodCode,
  type DraftField,
  type StreamDraft,
} from './draft';
import type { ColumnDecl } from './types';

const WIDTH = 140;
const COMMENT_WIDTH = 100;

/** A string literal as Prettier writes it: single quotes unless the text has more of them than double ones. */
export function quote(s: string): string {
  const json = JSON.stringify(s).slice(1, -1);
  const singles = (s.match(/'/g) ?? []).length;
  const doubles = (s.match(/"/g) ?? []).length;
  if (singles > doubles) return `"${json}"`;
  return `'${json.replaceAll('\\"', '"').replaceAll("'", "\\'")}'`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const propertyKey = (name: string) => (IDENTIFIER.test(name) ? name : quote(name));
const access = (name: string) => (IDENTIFIER.test(name) ? `e.${name}` : `e[${quote(name)}]`);

/** `// …` lines of at most COMMENT_WIDTH characters, at an indent. */
function comment(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + 3 + line.length + 1 + word.length > COMMENT_WIDTH) {
      lines.push(`${indent}// ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(`${indent}// ${line}`);
  return lines;
}

/** `acceptedValues: [...],` on one line when it fits at `indent` (after `lead`, e.g. `// `), else one value per line. */
function acceptedValuesLines(values: readonly string[], indent: string, lead = ''): string[] {
  const one = `${indent}${lead}acceptedValues: [${values.map(quote).join(', ')}],`;
  if (one.length <= WIDTH) return [one];
  return [`${indent}${lead}acceptedValues: [`, ...values.map((v) => `${indent}${lead}  ${quote(v)},`), `${indent}${lead}],`];
}

function columnLines(c: ColumnDecl, f: DraftField, indent: string): string[] {
  const lines: string[] = [];
  if (f.note) lines.push(...comment(`${f.field}: ${f.note}.`, indent));
  if (f.vocabulary && !f.vocabulary.sure) {
    lines.push(...comment(`${f.field}: ${f.vocabulary.why}. To check them, add to this column:`, indent));
    lines.push(...acceptedValuesLines(f.vocabulary.values, indent, '// '));
  } else if (f.vocabulary) lines.push(...comment(`${f.field}: ${f.vocabulary.why}.`, indent));
  const props = [`name: ${quote(c.name)}`, `type: ${quote(c.type)}`, ...(c.notNull ? ['notNull: true'] : [])];
  const accepted = c.acceptedValues;
  const one = `${indent}{ ${[...props, ...(accepted ? [`acceptedValues: [${accepted.map(quote).join(', ')}]`] : [])].join(', ')} },`;
  if (one.length <= WIDTH) return [...lines, one];
  const inner = `${indent}  `;
  return [
    ...lines,
    `${indent}{`,
    ...props.map((p) => `${inner}${p},`),
    ...(accepted ? acceptedValuesLines(accepted, inner) : []),
    `${indent}},`,
  ];
}

/** The declaration module's source text. */
export function renderDeclaration(d: StreamDraft): string {
  const key = keyField(d);
  const keyColumn = keyDecl(d);
  const columns = columnDecls(d);
  const byColumn = new Map(d.fields.map((f) => [f.column, f]));
  const decimal = d.fields.some((f) => f.kind === 'decimal_text');
  const out: string[] = [
    ...comment(
      `The stream ${d.name}, as \`etl stream init\` drafted it from ${d.sampled} records of ${d.source}. Review it before \`etl migrate\` creates its tables: the types, which fields are required (not null), the accepted values and the key are what the sample showed, not what your producer promises.`,
      '',
    ),
    ...(key ? [] : ["import { createHash } from 'node:crypto';"]),
    "import { defineStream, z } from 'etl-temporal/define';",
    '',
  ];
  if (decimal)
    out.push(
      '/** A decimal written as a string, kept exact: digits, and a point and digits. */',
      `const DECIMAL = ${String(DECIMAL_TEXT)};`,
      '',
    );
  out.push('const schema = z.object({');
  for (const f of d.fields) out.push(`  ${propertyKey(f.field)}: ${zodCode(f)},`);
  out.push('});', '', 'export default defineStream({', `  name: ${quote(d.name)},`);
  if (d.topic) out.push(`  topic: ${quote(d.topic)},`);
  out.push('  schema,', '  enrich: (e) => ({');
  if (!key) out.push(`    ${keyColumn.name}: ${DIGEST_CODE},`);
  for (const f of d.fields) out.push(`    ${f.column}: ${access(f.field)}${f.required ? '' : ' ?? null'},`);
  out.push('  }),', `  rawTable: ${quote(d.rawTable)},`, `  flatTable: ${quote(d.flatTable)},`);
  out.push(...comment(`The key: ${d.key.note}`, '  '));
  out.push(`  key: { name: ${quote(keyColumn.name)}, type: ${quote(keyColumn.type)} },`);
  out.push(...comment(`The event time: ${d.eventTimeNote}`, '  '));
  out.push(`  eventTimeColumn: ${quote(eventTimeColumn(d))},`);
  out.push('  columns: [');
  for (const c of columns) out.push(...columnLines(c, byColumn.get(c.name)!, '    '));
  out.push('  ],', '});', '');
  return out.join('\n');
}
