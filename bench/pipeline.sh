#!/usr/bin/env bash
# The shell alternative: `kubectl get <type> -A -o yaml` per type (4 at a time, as kubetrail lists), split into the
# same layout with awk, then `git add -A && git commit`. Usage: pipeline.sh REPO_DIR TYPES_FILE
# TYPES_FILE lines: <resource[.group]> <group.version.Kind> <namespaced:true|false>
set -euo pipefail
repo=$1 types=$2
mkdir -p "$repo/clusters/bench"
[ -d "$repo/.git" ] || git -C "$repo" init -q -b main
split_one() {
  local resource=$1 type=$2 dir="$repo/clusters/bench/$2"
  rm -rf "$dir"
  kubectl get "$resource" -A -o yaml | awk -v dir="$dir" '
    function flush() { if (buf != "") { if (ns == "") ns = "_cluster"; if (!(ns in made)) { system("mkdir -p \"" dir "/" ns "\""); made[ns] = 1 }; f = dir "/" ns "/" name ".yaml"; printf "%s", buf > f; close(f) } buf = ""; name = ""; ns = "" }
    /^- / { flush(); buf = substr($0, 3) "\n"; next }
    /^  / && buf != "" { line = substr($0, 3); buf = buf line "\n";
      if (line ~ /^  name: / && name == "") name = substr(line, 9);
      if (line ~ /^  namespace: / && ns == "") ns = substr(line, 14); next }
    /^[^ -]/ { flush() }
    END { flush() }'
}
export -f split_one
export repo
xargs -P 4 -L 1 bash -c 'split_one "$0" "$1"' < "$types"
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -q -m sync || true
