/**
 * When the addon does not load, the reason says which failure it was (a missing file, an
 * addon for another CPU, which glibc reports as "cannot open shared object file" as if it
 * were missing, a newer C library needed, a missing symbol), not "build missing" for all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { explainLoadFailure } from '../src/native.js';

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
