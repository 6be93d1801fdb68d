// A declaration module checked as the project's own code: formatted as Prettier formats it with the
// project's settings, linted by its ESLint config and typechecked by its tsconfig. As lint.test.ts
// does, the probes go into a copy of the tree, not beside the other test files (and bin/etl would
// rebuild dist/ for a probe in the real one); `etl-temporal/define` is read as its stand-in.
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ESLint } from 'eslint';
import { format } from 'prettier';
import ts from 'typescript';
import { PROJECT_ROOT } from '../../lib/config';

const NOT_SOURCE = /^\/(node_modules|\.stack|\.git|dist|test-artifacts)(\/|$)/;

/** Prettier's layout of `source`, with the project's settings: a formatted module is its own. */
export async function formatted(source: string): Promise<string> {
  const options = JSON.parse(await readFile(path.join(PROJECT_ROOT, '.prettierrc.json'), 'utf8')) as object;
  return format(source, { ...options, parser: 'typescript' });
}

export interface LintTree {
  /** The lint messages and type errors of these modules, as `rule: message` lines (none: they pass). */
  problems(sources: readonly string[]): Promise<string[]>;
  remove(): void;
}

/** A copy of the project's tree to lint and typecheck declaration modules in. */
export function lintTree(): LintTree {
  const tree = mkdtempSync(path.join(tmpdir(), 'etl-lint-probe-'));
  cpSync(PROJECT_ROOT, tree, { recursive: true, filter: (src) => !NOT_SOURCE.test(src.slice(PROJECT_ROOT.length)) });
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(tree, 'node_modules'));
  let probes = 0;
  return {
    async problems(sources) {
      const files = sources.map((source) => {
        const file = path.join(tree, 'test', `lint-probe-${probes++}.ts`);
        writeFileSync(file, source.replace("from 'etl-temporal/define'", "from './support/define-shim'"));
        return file;
      });
      const results = await new ESLint({ cwd: tree }).lintFiles(files);
      const config = ts.readConfigFile(path.join(tree, 'tsconfig.json'), (f) => ts.sys.readFile(f));
      const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, tree);
      const diagnostics = ts
        .getPreEmitDiagnostics(ts.createProgram(files, options))
        .filter((x) => x.file && files.includes(path.resolve(x.file.fileName)));
      return [
        ...results.flatMap((r) => r.messages.map((m) => `${m.ruleId ?? ''}: ${m.message}`)),
        ...diagnostics.map((x) => `tsc: ${ts.flattenDiagnosticMessageText(x.messageText, '\n')}`),
      ];
    },
    remove: () => rmSync(tree, { recursive: true, force: true }),
  };
}
