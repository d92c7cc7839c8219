// The JavaScript <-> C++ seam: every constant of src/seam-layout.ts must equal its twin in
// native/src/seam_layout.h (exported by the addon's seamLayout()), and neither side may have
// a constant the other lacks.
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/native.js';
import * as layout from '../src/seam-layout.js';

const { binding, reason } = loadNative();
const withAddon = binding ? it : it.skip;

describe('seam layout', () => {
  if (!binding) it.skip(`needs the addon (${reason})`, () => {});

  withAddon('seam-layout.ts and seam_layout.h agree on every word offset, stride, flag and bound', () => {
    const native = binding!.seamLayout();
    expect(Object.isFrozen(native)).toBe(true);
    expect({ ...native }).toEqual({ ...layout });
  });

  it('offsets are built one from the previous: descriptors and records tile their stride', () => {
    const descriptor = [
      layout.DESCRIPTOR_TOKEN_OFFSET,
      layout.DESCRIPTOR_BUFFER0_OFFSET,
      layout.DESCRIPTOR_START0_OFFSET,
      layout.DESCRIPTOR_LENGTH0_OFFSET,
      layout.DESCRIPTOR_BUFFER1_OFFSET,
      layout.DESCRIPTOR_START1_OFFSET,
      layout.DESCRIPTOR_LENGTH1_OFFSET,
      layout.DESCRIPTOR_FLAGS_OFFSET,
    ];
    expect(descriptor).toEqual([...Array(layout.DESCRIPTOR_UINT32S).keys()]);
    const send = [layout.RECORD_KIND_OFFSET, layout.RECORD_SEND_TOKEN_OFFSET, layout.RECORD_SEND_RESULT_OFFSET, layout.RECORD_SEND_FLAGS_OFFSET];
    const recv = [layout.RECORD_KIND_OFFSET, layout.RECORD_RECV_START_OFFSET, layout.RECORD_RECV_LENGTH_OFFSET, layout.RECORD_RECV_FLAGS_OFFSET];
    expect(send).toEqual([...Array(layout.RECORD_INT32S).keys()]);
    expect(recv).toEqual([...Array(layout.RECORD_INT32S).keys()]);
  });
});
