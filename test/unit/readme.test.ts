// The reference tables in the docs must not drift from the code they describe, and the README
// must keep showing the two commands a newcomer starts with.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, PROJECT_ROOT } from '../../lib/config';
import { ERROR_CODES, QUARANTINE_CODES } from '../../lib/errors';

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');

describe('README and reference docs', () => {
  it('docs/errors.md documents every error code', () => {
    const errors = read('docs/errors.md');
    assert.deepEqual(
      Object.keys(ERROR_CODES).filter((code) => !errors.includes(`\`${code}\``)),
      [],
    );
  });
  it('docs/errors.md documents every quarantine reason code', () => {
    const errors = read('docs/errors.md');
    assert.deepEqual(
      Object.keys(QUARANTINE_CODES).filter((code) => !errors.includes(`\`${code}\``)),
      [],
    );
  });
  it('docs/configuration.md documents every configuration variable', () => {
    const configuration = read('docs/configuration.md');
    assert.deepEqual(
      Object.keys(configSchema.shape).filter((name) => !configuration.includes(`\`${name}\``)),
      [],
    );
  });
  it('README shows the two commands', () => {
    const readme = read('README.md');
    assert.match(readme, /npm run demo/);
    assert.match(readme, /npm test/);
  });
});
