// Pure: where an object lives in the repository, and back.
//   clusters/<clusterId>/<group.version.Kind>/<namespace | _cluster>/<name>.yaml
//
// Names come from the cluster, and an aggregated API can report any string as a namespace or a name. A path
// segment is used as is only when it is "plain": it cannot climb out of its directory (`.`, `..`, `/`), is not
// a name git refuses in a tree or on checkout (`.git` in any case or Unicode/NTFS disguise, `.gitmodules`,
// 8.3 short names like `git~1`, NTFS streams `.git:x`), holds no NUL, control character or backslash, and fits
// a file name. Any other segment is written as `<stem>~<16 hex of its sha256>`: the stem is the name with
// unsafe characters as `_` (a leading `.` too, HFS-ignorable code points left out), the hash keeps distinct names distinct. The object's real name
// stays inside the file. Valid Kubernetes names (DNS labels and subdomains, RBAC names with `:`) are plain.
import { createHash } from 'node:crypto';

export const CLUSTER_SCOPED_DIR = '_cluster';
const MAX_FILE_NAME = 255; // bytes, the usual file-system limit
const EXT = '.yaml';

export const clusterPrefix = (clusterId: string) => `clusters/${clusterId}`;

// Code points HFS+ ignores when comparing names (git's is_hfs_dotgit skips the same ones).
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;
const LEADING_DOT = /^[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]*\./;
const UNSAFE_CHARS = /[\0-\x1f\x7f/\\]/;
// `.git`, `.gitmodules`, `.gitattributes`, `.gitignore`, `.mailmap` and their NTFS 8.3 short names: git fsck
// and `core.protectNTFS` (on by default) reject them, or check their content as git's own files.
const GIT_RESERVED = /^(\.git|\.mailmap|(git|gitmod|gitatt|gitign|mailma)~[1-4]|(gi7eba|gi7d29|gi250a|maba30)~[0-9])/;

/** True when git on any platform sees `segment` as `.git` or one of git's own files, as fsck and checkout do. */
export function isGitReserved(segment: string): boolean {
  // Every reserved name has a `~` or starts with a dot once ignorable code points are gone: most names have neither.
  if (!segment.includes('~') && !LEADING_DOT.test(segment)) return false;
  const base = segment.replace(HFS_IGNORABLE, '').split(':')[0].replace(/[. ]+$/, '').toLowerCase();
  return GIT_RESERVED.test(base);
}

/** A segment that is safe to use as is in a git tree and a working tree. */
export function isPlainSegment(segment: string): boolean {
  return segment !== '' && segment !== '.' && segment !== '..' && !UNSAFE_CHARS.test(segment) &&
    Buffer.byteLength(segment) <= MAX_FILE_NAME && !isGitReserved(segment);
}

/** `<stem>~<hash><ext>`, at most MAX_FILE_NAME bytes, always plain. */
function encodedSegment(name: string, ext: string): string {
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  let stem = name.replace(HFS_IGNORABLE, '').replace(/[\0-\x1f\x7f/\\~]/g, '_').replace(/^\./, '_');
  const room = MAX_FILE_NAME - ext.length - hash.length - 1;
  while (Buffer.byteLength(stem) > room) stem = stem.slice(0, -1);
  return `${stem}~${hash}${ext}`;
}

/** A name as a file name: kept as is when plain, else encoded (see the top of this file). */
export function fileNameFor(name: string): string {
  const plain = name + EXT;
  return isPlainSegment(plain) && name !== '' && name !== '.' && name !== '..' ? plain : encodedSegment(name, EXT);
}

/** A namespace as a directory name; an empty one is the cluster-scoped directory, a namespace named so is encoded. */
export function namespaceDirFor(namespace: string | undefined): string {
  if (!namespace) return CLUSTER_SCOPED_DIR;
  return isPlainSegment(namespace) && namespace !== CLUSTER_SCOPED_DIR ? namespace : encodedSegment(namespace, '');
}

/**
 * An object's path inside its cluster's directory. Joined, not a template: a sync keeps every path, and a
 * template's result is a tree of string pieces that keeps the object's name alive (half the memory, measured).
 * Type names are checked by discovery; one that is not plain here is a bug, so it throws.
 */
export function pathInCluster(typeName: string, namespace: string | undefined, name: string): string {
  if (!isPlainSegment(typeName)) throw new Error(`type name ${JSON.stringify(typeName)} cannot be a directory name`);
  return [typeName, namespaceDirFor(namespace), fileNameFor(name)].join('/');
}

export function objectPath(clusterId: string, typeName: string, namespace: string | undefined, name: string): string {
  return `${clusterPrefix(clusterId)}/${pathInCluster(typeName, namespace, name)}`;
}

export interface ObjectLocation { clusterId: string; type: string; namespace: string | undefined; file: string }

/** Parses from the right: type names contain dots, and the file name is the last segment. */
export function parseObjectPath(path: string): ObjectLocation | undefined {
  const parts = path.split('/');
  if (parts.length !== 5 || parts[0] !== 'clusters' || !parts[4].endsWith(EXT)) return undefined;
  const [, clusterId, type, ns, file] = parts;
  return { clusterId, type, namespace: ns === CLUSTER_SCOPED_DIR ? undefined : ns, file };
}
