/**
 * The READMEs every published package ships are read on the registry, away from the
 * repository: a relative link there goes nowhere. Links must be absolute (https:) or
 * anchors in the same file; repository files are named in text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const PACKAGES = new URL('../../', import.meta.url);
const platformPackages = readdirSync(new URL('uring/npm/', PACKAGES)).map((target) => `uring/npm/${target}`);
const published = [
  ...readdirSync(PACKAGES, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name),
  ...platformPackages,
].filter((name) => {
  try {
    return JSON.parse(readFileSync(new URL(`${name}/package.json`, PACKAGES), 'utf8')).private !== true;
  } catch {
    return false;
  }
});

/** Every link target in Markdown `[text](target)` and `<a href>` form. */
function linkTargets(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)[^)]*\)/g)].map((match) => match[1]);
  return [...targets, ...[...markdown.matchAll(/href="([^"]+)"/g)].map((match) => match[1])];
}

describe('published READMEs', () => {
  it('are found (every published package has one)', () => {
    expect(published.sort()).toEqual([
      'journal',
      'reliable',
      'ring',
      'sdk',
      'udp',
      'uring',
      'uring/npm/linux-arm64-gnu',
      'uring/npm/linux-x64-gnu',
      'uring/npm/linux-x64-musl',
    ]);
  });

  it.each(published)('%s links only absolutely or within itself', (name) => {
    const readme = readFileSync(new URL(`${name}/README.md`, PACKAGES), 'utf8');
    const relative = linkTargets(readme).filter((target) => !/^(https:\/\/|#|mailto:)/.test(target));
    expect(relative).toEqual([]);
  });
});
