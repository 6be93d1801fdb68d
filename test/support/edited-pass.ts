// The pass as production runs it, with its spooled output edited before the load reads it: how the
// tests put into a load what PostgreSQL refuses, when no rule of the stream would derive it.
import { writeFile } from 'node:fs/promises';
import type { ActivityDeps } from '../../activities';
import type { PassResult, PassTask } from '../../activities/transform-load/pass';
import { passInline } from '../../activities/transform-load/pass-inline';
import { copyRows } from '../../activities/transform-load/rows';
import { spooledLines } from '../../activities/transform-load/spool';
import { getStream } from '../../streams';

export type SilverDoc = Record<string, unknown> & { payload: Record<string, unknown> };

/** A RunPass whose silver lines go through `edit`; raw and flat rows are rewritten from them, as the pass writes them. */
export function editedPass(edit: (docs: SilverDoc[], task: PassTask, pass: PassResult) => void) {
  return async (task: PassTask, deps: ActivityDeps): Promise<PassResult> => {
    const pass = await passInline(task, deps);
    const docs: SilverDoc[] = [];
    for await (const line of spooledLines(pass.files.silver)) docs.push(JSON.parse(line) as SilverDoc);
    edit(docs, task, pass);
    const rows = docs.map((d) => copyRows(d, getStream(task.stream), task));
    await writeFile(pass.files.silver, docs.map((d) => `${JSON.stringify(d)}\n`).join(''));
    await writeFile(pass.files.raw, rows.map((r) => r.raw).join(''));
    await writeFile(pass.files.flat, rows.map((r) => r.flat).join(''));
    return pass;
  };
}
