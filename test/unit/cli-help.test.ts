// Every command a user can run shows, in its --help, at least one example of how to run it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../client/program';

function leaves(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const p = [...prefix, c.name()];
    return c.commands.length ? leaves(c, p) : [{ path: p, cmd: c }];
  });
}

/** The help exactly as `etl … --help` prints it, including text added before and after it. */
function renderedHelp(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

describe('CLI help', () => {
  const all = leaves(buildProgram(() => undefined));

  it('has commands to check', () => assert.ok(all.length > 20, `${all.length} commands`));

  for (const { path, cmd } of all) {
    it(`etl ${path.join(' ')} --help shows an example`, () => {
      const help = renderedHelp(cmd);
      assert.match(help, /^Usage: etl /m);
      assert.match(help, /\nExamples?:\n {2}\$ etl /, `no "Example:" section with a "$ etl …" line in:\n${help}`);
    });
  }
});
