// The documentation stays one connected whole: the README fits on a screen and links to every page
// under docs/, docs/README.md indexes them all, and no relative link or #anchor in any of them points
// at a file or heading that is not there (moving code or renaming a heading breaks them here).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';

const README_MAX_BYTES = 10_000;

const docPages = readdirSync(path.join(PROJECT_ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => `docs/${f}`);
const pages = ['README.md', ...docPages];
const text = (page: string) => readFileSync(path.join(PROJECT_ROOT, page), 'utf8');

const withoutFences = (md: string) => md.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
/** Markdown where `[x](y)` can only be a link: no fenced blocks, no code spans. */
const prose = (md: string) => withoutFences(md).replace(/`[^`\n]*`/g, '');

interface Link {
  target: string;
  file: string;
  fragment?: string;
}

/** Every inline link of a page, with its target resolved against the repository root. */
function linksOf(page: string): Link[] {
  return [...prose(text(page)).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => {
      const [file = '', fragment] = target.split('#');
      return {
        target,
        file: file ? path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURIComponent(file))) : page,
        fragment,
      };
    });
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of withoutFences(text(page)).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n ? `${base}-${n}` : base);
  }
  return anchors;
}

describe('documentation', () => {
  it('has pages under docs/ to check', () => assert.ok(docPages.length > 15, `${docPages.length} pages`));

  it(`README.md is under ${README_MAX_BYTES} bytes`, () => {
    const bytes = Buffer.byteLength(text('README.md'));
    assert.ok(bytes < README_MAX_BYTES, `README.md is ${bytes} bytes; move detail to a page under docs/`);
  });

  it('README.md links to every page under docs/', () => {
    const linked = new Set(linksOf('README.md').map((l) => l.file));
    assert.deepEqual(
      docPages.filter((page) => !linked.has(page)),
      [],
    );
  });

  it('docs/README.md indexes every other page', () => {
    const linked = new Set(linksOf('docs/README.md').map((l) => l.file));
    assert.deepEqual(
      docPages.filter((page) => page !== 'docs/README.md' && !linked.has(page)),
      [],
    );
  });

  it('every page opens with a title and a line saying what it covers', () => {
    const bad = docPages.filter((page) => {
      const [title = '', blank, intro = ''] = text(page).split('\n');
      return !/^# \S/.test(title) || blank !== '' || !/^[^#|`\s-]/.test(intro);
    });
    assert.deepEqual(bad, []);
  });

  it('every relative link resolves to a file, and every #anchor to a heading of it', () => {
    const links = pages.flatMap((page) => linksOf(page).map((link) => ({ page, ...link })));
    assert.ok(links.length > 40, `only ${links.length} relative links found: is the link pattern still right?`);
    const broken = links.filter(({ file, fragment }) => {
      if (!existsSync(path.join(PROJECT_ROOT, file))) return true;
      return fragment !== undefined && !(file.endsWith('.md') && anchorsOf(file).has(fragment));
    });
    assert.deepEqual(
      broken.map((l) => `${l.page}: (${l.target})`),
      [],
    );
  });
});
