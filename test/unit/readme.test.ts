// The README's reference tables must not drift from the code they describe.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, PROJECT_ROOT } from '../../lib/config';
import { ERROR_CODES } from '../../lib/errors';

const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every error code', () => {
    assert.deepEqual(Object.keys(ERROR_CODES).filter((code) => !readme.includes(`\`${code}\``)), []);
  });
  it('documents every configuration variable', () => {
    assert.deepEqual(Object.keys(configSchema.shape).filter((name) => !readme.includes(`\`${name}\``)), []);
  });
  it('shows the two commands', () => {
    assert.match(readme, /npm run demo/);
    assert.match(readme, /npm test/);
  });
});
