// Installs node_modules when missing or older than package-lock.json, so `npm run demo` and
// `npm test` work straight after a clone.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const marker = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');
if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) process.exit(0);
console.error('installing npm dependencies…');
// `npm install`, not `npm ci`: the registries these machines reach do not serve every platform's
// optional native package (e.g. @swc/core for macOS), and `npm ci` refuses a lock that lacks them.
// `npm install` still installs the locked versions.
const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
