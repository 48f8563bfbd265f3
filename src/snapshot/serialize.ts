// Pure: object → deterministic YAML bytes (no folding, no anchors, trailing newline).
import { stringify } from 'yaml';

export function toYaml(obj: unknown): string {
  return stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.2' });
}
