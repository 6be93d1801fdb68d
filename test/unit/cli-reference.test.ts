// The CLI reference (docs/cli.md) is checked against the real command tree: every command is
// documented there, and every command has a description and renders its --help.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../client/program';
import { PROJECT_ROOT } from '../../lib/config';

function leaves(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const p = [...prefix, c.name()];
    return c.commands.length ? leaves(c, p) : [{ path: p, cmd: c }];
  });
}

describe('CLI reference', () => {
  const program = buildProgram(() => undefined);
  const rows = readFileSync(path.join(PROJECT_ROOT, 'docs', 'cli.md'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| `etl '));
  const all = leaves(program);

  it('has commands to check', () => assert.ok(all.length > 20, `${all.length} commands`));

  for (const { path: p, cmd } of all) {
    it(`etl ${p.join(' ')} is in docs/cli.md and has help`, () => {
      const [group, ...rest] = p;
      const row = rows.filter((r) => r.startsWith(`| \`etl ${group}`) && rest.every((word) => new RegExp(`\\b${word}\\b`).test(r)));
      assert.ok(row.length > 0, `docs/cli.md's CLI table has no row for "etl ${p.join(' ')}"`);
      assert.ok(cmd.description().length > 10, 'described');
      assert.match(cmd.helpInformation(), /^Usage: /);
    });
  }
});
