// Branch names become file paths (.git/refs/heads/<name>) and ref lines: check them as `git check-ref-format --branch` would.

/** Pure: why `name` is not a usable branch name, or undefined when it is. */
export function branchNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name === '@' || name === 'HEAD') return `"${name}" is reserved by git`;
  if (name.startsWith('-')) return 'must not start with "-"';
  if (name.startsWith('/') || name.endsWith('/')) return 'must not start or end with "/"';
  if (name.endsWith('.')) return 'must not end with "."';
  if (name.includes('//')) return 'must not contain "//"';
  if (name.includes('..')) return 'must not contain ".."';
  if (name.includes('@{')) return 'must not contain "@{"';
  // eslint-disable-next-line no-control-regex
  const bad = name.match(/[\x00-\x20\x7f~^:?*[\\]/);
  if (bad) return `must not contain ${JSON.stringify(bad[0])} (no spaces, control characters or ~^:?*[\\)`;
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return `a path component must not start with "." (got "${part}")`;
    if (part.endsWith('.lock')) return `a path component must not end with ".lock" (got "${part}")`;
  }
  return undefined;
}
