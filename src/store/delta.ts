// Git's delta encoding, pure bytes in and out: packs store most objects of a fetch or a gc this way.
// Format: https://git-scm.com/docs/gitformat-pack ("Deltified representation").

// Buffer#copy crosses into C++ for each call: most copies and every insert of a delta are a few dozen bytes, where
// that made it most of indexing a fetched pack (a CPU profile of an 11k-object fetch: 200 of 550 ms).
function copy(from: Uint8Array, start: number, length: number, to: Uint8Array, at: number): void {
  if (length > 16) to.set(new Uint8Array(from.buffer, from.byteOffset + start, length), at);
  else for (let i = 0; i < length; i++) to[at + i] = from[start + i];
}

/**
 * Applies a git delta to its base: two sizes (base, result), then instructions, each either a copy of a range of
 * the base (top bit set; which offset and size bytes follow is in the low 7 bits) or an insert of the next n bytes.
 * `allocate`: where the result goes (a caller that only hashes it may reuse one buffer).
 */
export function applyDelta(base: Buffer, delta: Buffer, allocate: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  let at = 0;
  const size = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = delta[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
  };
  const baseSize = size();
  if (baseSize !== base.length) throw new Error(`delta expects a base of ${baseSize} bytes, got ${base.length}`);
  const out = allocate(size());
  let written = 0;
  while (at < delta.length) {
    const op = delta[at++];
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset += delta[at++] * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) length += delta[at++] * 2 ** (8 * i);
      if (length === 0) length = 0x10000;
      if (offset + length > base.length || written + length > out.length) throw new Error('delta copies beyond its base or result');
      copy(base, offset, length, out, written);
      written += length;
    } else if (op > 0) {
      if (at + op > delta.length || written + op > out.length) throw new Error('delta inserts beyond its end');
      copy(delta, at, op, out, written);
      written += op;
      at += op;
    } else {
      throw new Error('delta has a reserved instruction (0)');
    }
  }
  if (written !== out.length) throw new Error(`delta made ${written} bytes, expected ${out.length}`);
  return out;
}
