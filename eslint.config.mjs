// Type-aware lint. Three rules carry the architecture: workflows/ stays deterministic (it may import
// only @temporalio/workflow, its siblings, shared/, and types), every import points down the layers
// (LAYERS below), and no promise is left floating. `npm run lint` also refuses import cycles (scripts/lint.mjs).
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers, lowest first, each with what it may import besides itself. An import that points up
 * (lib/ reaching for streams/, the worker for the dashboard, the product for tools/ or test/) fails.
 * Paths are resolved, so `../forecast` from a stage folder (activities/forecast/) is told apart
 * from the top-level forecast/ module.
 */
const LAYERS = {
  shared: [], // pure code that workflows and activities both need (counts, how a thing is named): no I/O, no packages
  lib: ['shared'], // infrastructure: config, errors, clients, Kafka, S3, PostgreSQL, Temporal, lake layout
  streams: ['shared', 'lib'], // the declared streams: schemas, enrichment, synthetic sources
  sources: ['shared', 'lib', 'streams'], // outside data turned into stream events (market APIs)
  forecast: ['shared', 'lib', 'streams'], // the forecasting models and their store
  activities: ['shared', 'lib', 'streams', 'sources', 'forecast'], // one folder per stage, and the factory
  workflows: ['shared', 'lib', 'streams', 'sources', 'forecast', 'activities'], // types only, but shared/ (rule below)
  worker: ['shared', 'lib', 'streams', 'activities', 'workflows'],
  dashboard: ['shared', 'lib', 'streams', 'forecast'],
  client: ['shared', 'lib', 'streams', 'sources', 'forecast', 'activities', 'workflows', 'worker', 'dashboard'], // the etl CLI
  tools: ['shared', 'lib', 'streams', 'sources', 'forecast', 'activities', 'workflows', 'worker', 'dashboard', 'client', 'test'], // chaos, bench
};
const FOLDERS = [...Object.keys(LAYERS), 'test'];
const layerZones = [
  ...Object.entries(LAYERS)
    .map(([layer, allowed]) => ({
      target: `./${layer}`,
      from: FOLDERS.filter((f) => f !== layer && !allowed.includes(f)).map((f) => `./${f}`),
      message: `${layer}/ may import only ${allowed.length ? allowed.map((a) => `${a}/`).join(', ') : 'packages'} besides itself (eslint.config.mjs, LAYERS).`,
    }))
    .filter((zone) => zone.from.length > 0),
  // Of test/, tools share the helpers only: test/support.
  { target: './tools', from: './test', except: ['./support'], message: 'tools/ may use test/support/, not the tests themselves.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.stack/**', 'test-artifacts/**', 'tools/bench/results/**', 'eslint.config.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mjs', '.js', '.json', '.node'] })] },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test runs suites it is handed; their promises are the runner's to await.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // A call of seven positional arguments cannot be read without the signature: one input object instead.
      '@typescript-eslint/max-params': ['error', { max: 6 }],
      // The layer rule sees only imports it can resolve: every one must resolve, so none slips past it.
      'import-x/no-unresolved': 'error',
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|\\./[\\w./-]+$|\\.\\./shared/[\\w./-]+$)',
              allowTypeImports: true,
              message:
                'workflows/ must stay deterministic: import only @temporalio/workflow, sibling workflow files and shared/; anything else (activities, lib) with `import type`.',
            },
          ],
        },
      ],
    },
  },
  {
    // What workflows import runs in their sandbox: shared/ imports nothing but its siblings (and types).
    files: ['shared/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./[\\w./-]+$)',
              allowTypeImports: true,
              message: 'shared/ is pure code that workflows run too: import only sibling shared/ files; anything else with `import type`.',
            },
          ],
        },
      ],
    },
  },
);
