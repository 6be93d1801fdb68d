// The workflow code a worker runs, as one bundle per process. Built (dist/), it is the bundle that
// `npm run build` made beside the code. From source (tsx: tests, development) it is that same bundle
// while the build is current (`npm test` builds before its test files start, so none of their
// workers runs webpack), and otherwise workflows/ bundled by the SDK, so an edit is picked up
// without a build. Webpack takes seconds of CPU: a process that creates many workers bundles once.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { PROJECT_ROOT, RUNNING_BUILT } from '../lib/config';

/** What scripts/build.mjs says of dist/ (the one definition of a current build). */
interface BuildState {
  WORKFLOW_BUNDLE: string;
  isStale(): boolean;
}

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error };

async function load(): Promise<WorkflowBundle> {
  const built = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
  if (RUNNING_BUILT) return { code: readFileSync(built, 'utf8') };
  const build = (await import(pathToFileURL(path.join(PROJECT_ROOT, 'scripts', 'build.mjs')).href)) as BuildState;
  if (!build.isStale()) return { code: readFileSync(build.WORKFLOW_BUNDLE, 'utf8') };
  return bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quiet });
}

let bundle: Promise<WorkflowBundle> | undefined;

/** The bundle of workflows/ for Worker.create's `workflowBundle`, made or read once per process. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= load();
  return bundle;
}
