/**
 * XOR of byte ranges, four bytes at a time: parity is computed over every datagram a
 * FEC sender sends, so it runs word-wise rather than byte-wise.
 *
 * Each side is given as a byte view and an Int32Array over the same memory from the same
 * start (`bytes.byteOffset === words.byteOffset`), and an offset that is a multiple of 4.
 */

/** target[targetOffset + i] ^= source[sourceOffset + i] for 0 <= i < lengthBytes. */
export function xorInto(
  targetBytes: Uint8Array,
  targetWords: Int32Array,
  targetOffsetBytes: number,
  sourceBytes: Uint8Array,
  sourceWords: Int32Array,
  sourceOffsetBytes: number,
  lengthBytes: number,
): void {
  const words = lengthBytes >>> 2;
  const target = targetOffsetBytes >>> 2;
  const source = sourceOffsetBytes >>> 2;
  for (let i = 0; i < words; i++) targetWords[target + i] ^= sourceWords[source + i];
  for (let i = words << 2; i < lengthBytes; i++) targetBytes[targetOffsetBytes + i] ^= sourceBytes[sourceOffsetBytes + i];
}

/** A byte view and a word view of one new, zeroed, 8-byte-aligned buffer of at least `lengthBytes`. */
export function alignedBytes(lengthBytes: number): { bytes: Uint8Array; words: Int32Array } {
  const buffer = new ArrayBuffer((lengthBytes + 7) & ~7);
  return { bytes: new Uint8Array(buffer), words: new Int32Array(buffer) };
}
