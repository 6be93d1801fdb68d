/**
 * Quotes an identifier that comes from code (a stream's declared table or column), never from
 * input. It refuses anything that is not a plain lowercase identifier rather than escaping it.
 */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}
