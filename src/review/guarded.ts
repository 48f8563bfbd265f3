// Pure: guarded mode's decision. Routine changes go straight to base; a run whose changes against base touch a
// guarded type (RBAC, Secrets, CRDs, admission webhooks by default) or that would mass-delete goes to review.
import type { FileChanges } from '../store/files.ts';
import { DEFAULT_GUARDED_TYPES } from '../config/pull-request.ts';
import { compileTypePattern, matchesAny, parseTypeName, type TypePattern } from '../model/type-name.ts';

export { DEFAULT_GUARDED_TYPES };

/** Throws the pattern's own error (which names the bad character or bracket) for an unusable pattern. */
export function compileGuarded(patterns: string[] = DEFAULT_GUARDED_TYPES): TypePattern[] {
  return patterns.map(compileTypePattern);
}

export interface GuardedDecision {
  review: boolean;
  /** Why: the guarded types touched, and "mass deletion" when that is a reason. */
  reasons: string[];
}

/** `changes` are the snapshot's differences from base, paths relative to `clusters/<id>/` (`<type>/<ns>/<name>.yaml`). */
export function classifyChanges(changes: FileChanges, patterns: TypePattern[], o: { massDeletion?: boolean } = {}): GuardedDecision {
  const types = new Set([...changes.added, ...changes.changed, ...changes.deleted].map((p) => p.slice(0, p.indexOf('/'))));
  const reasons = [...types].filter((name) => {
    const t = parseTypeName(name);
    return t !== undefined && matchesAny(patterns, t) !== undefined;
  }).sort();
  if (o.massDeletion) reasons.push('mass deletion');
  return { review: reasons.length > 0, reasons };
}
