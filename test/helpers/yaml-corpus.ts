// Values on every edge of YAML's plain / quoted / block decisions, and random documents made of them: shared by
// the writer's (serialize.test.ts) and the reader's (parse.test.ts) tests.

// Strings that sit on every edge of yaml's plain / quoted / block decisions.
export const TRICKY = [
  '', ' ', 'a', 'true', 'True', 'FALSE', 'null', 'Null', '~', '0', '42', '-1', '+7', '0.5', '.5', '1e3', '1E-3', '0x1F', '0o17',
  '.inf', '-.Inf', '.nan', 'yes', 'no', 'on', 'off', 'y', 'n', '12:30', '1_000', '2026-01-01T00:00:00Z', 'nginx:1.27',
  'a: b', 'a:b', 'a #b', 'a#b', '#x', '- x', '-', '?', '? x', '-x', ':', 'x:', ' x', 'x ', '\tx', 'x\t', '"q"', "'s'",
  `both ' and "`, 'a "quoted" word', "it's", '@at', '`tick', '%pct', '!tag', '&anchor', '*alias', '|pipe', '>gt', '[x]',
  '{x}', 'x,y', '---', '...', '--- x', 'a\\b', 'ünïcödé ✓', '😀 emoji', 'é\u00a0nbsp', 'line1\nline2', 'trailing\n',
  'two trailing\n\n', '\nleading newline', '  indented\nblock', 'a\n\nb', 'a\n  b\n', 'x \ny', 'x\n y', 'end spaces  ',
  'ends\n  ', '\n', '\n\n', ' \n', 'tab\tinside', 'ctl\u0001char', 'del\u007f', 'bell\u0007', '--- \nx', 'x\n---\ny',
  'x\n...\n', '%YAML\nx', 'long '.repeat(300), `${'k'.repeat(1030)}`, 'a\r\nb', 'cr\r', '{"json": [1, 2]}\n',
  'lone \uD800 high', 'lone low \uDC00', '\uDC00\uD800', 'pair \uD83D\uDE00\nsecond line', 'a\n\n\nb\n', '\n\n  x\ny',
  '  \n\nlead', 'x\n\ty\n\n', 'blank\n\nlines\nand\n\n\nruns',
];

export function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

export function randomValue(rnd: () => number, depth: number): unknown {
  const r = rnd();
  if (depth > 3 || r < 0.45) {
    const k = rnd();
    if (k < 0.6) return TRICKY[Math.floor(rnd() * TRICKY.length)];
    if (k < 0.7) return Math.floor(rnd() * 2000) - 1000;
    if (k < 0.75) return rnd() * 100;
    if (k < 0.85) return rnd() < 0.5;
    return null;
  }
  if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
  const keys = Array.from({ length: Math.floor(rnd() * 5) }, () =>
    rnd() < 0.85 ? ['name', 'app.kubernetes.io/name', 'image', 'x-y_z', 'a.b', '80', 'true', ''][Math.floor(rnd() * 8)]
      : TRICKY[Math.floor(rnd() * TRICKY.length)]);
  return Object.fromEntries(keys.map((key) => [key, randomValue(rnd, depth + 1)]));
}
