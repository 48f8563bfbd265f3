// Git's delta encoding, pure bytes in and out: packs store most objects of a fetch or a gc this way.
// Format: https://git-scm.com/docs/gitformat-pack ("Deltified representation").

/**
 * Applies a git delta to its base: two sizes (base, result), then instructions, each either a copy of a range of
 * the base (top bit set; which offset and size bytes follow is in the low 7 bits) or an insert of the next n bytes.
 */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
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
  const out = Buffer.allocUnsafe(size());
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
      written += base.copy(out, written, offset, offset + length);
    } else if (op > 0) {
      if (at + op > delta.length || written + op > out.length) throw new Error('delta inserts beyond its end');
      written += delta.copy(out, written, at, at + op);
      at += op;
    } else {
      throw new Error('delta has a reserved instruction (0)');
    }
  }
  if (written !== out.length) throw new Error(`delta made ${written} bytes, expected ${out.length}`);
  return out;
}
