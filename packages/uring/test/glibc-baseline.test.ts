/**
 * The built addon loads on glibc 2.28 (Debian 10, RHEL 8, Ubuntu 20.04's 2.31) and later:
 * no symbol it imports from glibc is versioned after GLIBC_2.28 (objdump -T lists each
 * import with its version). strerrorname_np (2.32) and fstat (2.33) were such imports once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ADDON = new URL('../build/Release/flux_uring.node', import.meta.url).pathname;
const BASELINE = [2, 28];

function objdumpOf(path: string): string | undefined {
  try {
    return execFileSync('objdump', ['-T', path], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
}

describe('the addon’s glibc baseline', () => {
  const table = existsSync(ADDON) ? objdumpOf(ADDON) : undefined;
  const reason = !existsSync(ADDON) ? 'the addon is not built' : table === undefined ? 'objdump is not installed (binutils)' : '';
  it.skipIf(reason !== '')(`imports nothing from glibc newer than GLIBC_${BASELINE.join('.')}${reason ? ` (skipped: ${reason})` : ''}`, () => {
    const newer = [...(table as string).matchAll(/\(GLIBC_(\d+)\.(\d+)(?:\.\d+)?\)\s+(\S+)/g)]
      .filter(([, major, minor]) => Number(major) > BASELINE[0] || (Number(major) === BASELINE[0] && Number(minor) > BASELINE[1]))
      .map(([, major, minor, symbol]) => `${symbol}@GLIBC_${major}.${minor}`);
    expect(newer).toEqual([]);
    expect(table).toMatch(/GLIBC_2\.\d+/); // it did list glibc imports: the check above saw them
  });
});
