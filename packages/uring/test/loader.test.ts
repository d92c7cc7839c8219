/**
 * When the addon does not load, the reason says which failure it was (a missing file, an
 * addon for another CPU, which glibc reports as "cannot open shared object file" as if it
 * were missing, a newer C library needed, a missing symbol), not "build missing" for all.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { addonCandidates, explainLoadFailure, noAddonReason, PREBUILD_TARGETS, prebuildTarget, processLibc } from '../src/native.js';

const directory = mkdtempSync(`${tmpdir()}/flux-loader-`);
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A file that starts like a 64-bit ELF shared object for `machine` (e_machine at byte 18). */
function elf(name: string, machine: number): string {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0); // 0x7f "ELF"
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header.writeUInt16LE(3, 16); // ET_DYN
  header.writeUInt16LE(machine, 18);
  const path = `${directory}/${name}`;
  writeFileSync(path, header);
  return path;
}

const OWN_MACHINE = process.arch === 'arm64' ? 183 : 62;
const OTHER = process.arch === 'arm64' ? { machine: 62, name: 'x64' } : { machine: 183, name: 'arm64' };

describe('explainLoadFailure', () => {
  it('tells a missing file from the rest', () => {
    expect(explainLoadFailure(`${directory}/absent.node`, new Error("Cannot find module 'absent.node'"))).toMatch(
      /^build missing: .*absent\.node does not exist/,
    );
  });

  it('names the CPU an addon was built for when it is not this one, whatever dlopen said', () => {
    const path = elf('other.node', OTHER.machine);
    const dlopen = new Error(`${path}: cannot open shared object file: No such file or directory`);
    expect(explainLoadFailure(path, dlopen)).toBe(`addon built for ${OTHER.name} (64-bit), this process is ${process.arch}: ${path}`);
  });

  it('says which C library version an addon needs, and which symbol is missing', () => {
    const path = elf('own.node', OWN_MACHINE);
    expect(explainLoadFailure(path, new Error(`/lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.32' not found (required by ${path})`))).toMatch(
      /^addon needs GLIBC_2\.32, which this system's C library does not have/,
    );
    expect(explainLoadFailure(path, new Error(`${path}: undefined symbol: strerrorname_np`))).toMatch(/^addon has a missing symbol: .*strerrorname_np/);
    expect(explainLoadFailure(path, new Error('something else'))).toBe('addon did not load: something else');
  });

  it('says when the file is not a shared object at all', () => {
    const path = `${directory}/text.node`;
    writeFileSync(path, 'not an ELF file at all, just text');
    expect(explainLoadFailure(path, new Error('invalid ELF header'))).toBe(`addon is not an ELF shared object: ${path}`);
  });
});

describe('where the addon is looked for', () => {
  it('is FLUX_URING_ADDON alone when set, else a from-source build before the prebuild package', () => {
    const saved = process.env.FLUX_URING_ADDON;
    try {
      process.env.FLUX_URING_ADDON = '/somewhere/flux_uring.node';
      expect(addonCandidates()).toEqual([{ path: '/somewhere/flux_uring.node', source: 'FLUX_URING_ADDON' }]);
      expect(noAddonReason()).toBe('build missing: FLUX_URING_ADDON names /somewhere/flux_uring.node, which does not exist');
      delete process.env.FLUX_URING_ADDON;
      const candidates = addonCandidates();
      expect(candidates[0]).toMatchObject({ source: 'from-source build' });
      expect(candidates[0].path).toMatch(/\/build\/Release\/flux_uring\.node$/);
      // In the workspace the prebuild package for this machine is linked (packages/uring/npm/*).
      if (PREBUILD_TARGETS.includes(prebuildTarget())) {
        expect(candidates[1]).toMatchObject({ source: 'prebuild' });
        expect(candidates[1].path).toMatch(new RegExp(`npm/${prebuildTarget()}/flux_uring\\.node$`));
      }
    } finally {
      if (saved === undefined) delete process.env.FLUX_URING_ADDON;
      else process.env.FLUX_URING_ADDON = saved;
    }
  });

  it('names the target it needed, and what to do when it is not installed', () => {
    expect(processLibc()).toBe(existsSyncMusl() ? 'musl' : 'gnu');
    expect(prebuildTarget()).toBe(`${process.platform}-${process.arch}-${processLibc()}`);
    const saved = process.env.FLUX_URING_ADDON;
    delete process.env.FLUX_URING_ADDON;
    try {
      const reason = noAddonReason();
      expect(reason).toMatch(/^build missing: /);
      expect(reason).toMatch(/npx @flux\/sdk build-native/);
      expect(reason).toContain(PREBUILD_TARGETS.includes(prebuildTarget()) ? `@flux/uring-${prebuildTarget()}` : `no prebuild for ${prebuildTarget()}`);
    } finally {
      if (saved !== undefined) process.env.FLUX_URING_ADDON = saved;
    }
  });
});

/** Whether this Node runs on musl: its loader is mapped. */
function existsSyncMusl(): boolean {
  return readFileSync('/proc/self/maps', 'latin1').includes('ld-musl-');
}
