// The Search tab's query syntax: an allow-listed subset of Lucene's, the query string syntax
// OpenSearch users know. A query is parsed here (the lucene package), each node checked, and only
// the re-serialized tree reaches OpenSearch, so what a URL can ask for is bounded by this list:
//   words and "phrases"; field:value on the stream's declared search fields; AND, OR, NOT, &&, ||,
//   !, +, - and (groups); ranges field:[a TO b], {a TO b}, field:>=a; a trailing * (prefix).
// Refused: regular expressions (/…/), leading and inner wildcards (*x, x*y, ?), fuzzy and
// proximity (~), boosts (^), and any other field (_exists_, wildcard field names). Those are what
// make one query expensive for the whole node (a regular expression or a leading wildcard visits
// every term of the index).
import * as lucene from 'lucene';

export class QueryRefused extends Error {}

type Node = lucene.AST | lucene.Node;

/** Offsets of the unescaped characters of a bare term (a backslash escapes the next one). */
function unescaped(term: string): { char: string; at: number }[] {
  const out: { char: string; at: number }[] = [];
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') i++;
    else out.push({ char: term[i]!, at: i });
  }
  return out;
}

function checkWildcards(term: string, prefixAllowed: boolean): void {
  const chars = unescaped(term);
  for (const { char, at } of chars) {
    if (char === '?') throw new QueryRefused(`"${term}": ? wildcards are not supported; a trailing * matches a prefix`);
    if (char !== '*') continue;
    if (at === 0) throw new QueryRefused(`"${term}": a leading wildcard is not supported (it reads every term of the index)`);
    if (!prefixAllowed || at !== term.length - 1) throw new QueryRefused(`"${term}": only a trailing * (a prefix) is supported`);
  }
}

function checkField(field: string | undefined, fields: ReadonlySet<string>): void {
  // The parser keeps a clause's +, - or ! in its field name (-category:travel).
  if (field === undefined || field === '<implicit>' || fields.has(field.replace(/^[-+!]/, ''))) return;
  throw new QueryRefused(`unknown field "${field}"; fields: ${[...fields].join(', ')}`);
}

function checkNode(node: Node, fields: ReadonlySet<string>): void {
  checkField(node.field, fields);
  if ('term_min' in node) {
    for (const bound of [node.term_min, node.term_max]) if (bound !== '*') checkWildcards(bound, false);
    return;
  }
  if ('term' in node) {
    const t = node as lucene.NodeTerm & { proximity?: number | null };
    if (t.regex) throw new QueryRefused(`/${t.term}/: regular expressions are not supported`);
    if (t.similarity != null || t.proximity != null)
      throw new QueryRefused(`"${t.term}": fuzzy and proximity searches (~) are not supported`);
    if (t.boost != null) throw new QueryRefused(`"${t.term}": boosts (^) are not supported`);
    if (!t.quoted) checkWildcards(t.term, true);
    return;
  }
  if (!('left' in node) || !node.left) throw new QueryRefused('an operator without anything to search');
  checkNode(node.left, fields);
  if ('right' in node && node.right) checkNode(node.right, fields);
}

/**
 * `q` as the query string OpenSearch is sent, once every part of it is on the allow-list above;
 * otherwise a QueryRefused saying which part and why. `fields` are the stream's search fields.
 */
export function boundedQuery(q: string, fields: readonly string[]): string {
  let ast: lucene.AST;
  try {
    ast = lucene.parse(q);
  } catch (err) {
    const at = (err as { location?: { start?: { column?: number } } }).location?.start?.column;
    throw new QueryRefused(
      `the query does not parse${at ? ` at character ${at}` : ''}: quote values holding spaces or : ("..."), close every ( and "`,
    );
  }
  checkNode(ast, new Set(fields));
  return lucene.toString(ast);
}
