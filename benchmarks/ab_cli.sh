#!/usr/bin/env bash
# Compare the CPU time of `skyfence detect` at another commit with this working tree,
# runs interleaved (A, B, A, B, ...): the shared machine's speed drifts by up to 10 %
# within an hour, so back-to-back series of one version, then the other, mislead.
#
# usage: benchmarks/ab_cli.sh REV INPUT [RUNS] [detect options...]
#   REV    the commit to compare with (checked out in a temporary worktree)
#   INPUT  a Parquet file or dataset directory
#   RUNS   runs of each (default 5); the medians of user + system CPU seconds are printed
set -euo pipefail
rev=${1:?usage: ab_cli.sh REV INPUT [RUNS] [detect options...]}
input=${2:?usage: ab_cli.sh REV INPUT [RUNS] [detect options...]}
runs=${3:-5}
shift $(( $# < 3 ? $# : 3 ))
opts=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
wt=$(mktemp -d)
out=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$wt" >/dev/null 2>&1 || true; rm -rf "$wt" "$out"' EXIT
git -C "$root" worktree add -q --detach "$wt" "$rev"
unset PYTHONDONTWRITEBYTECODE  # bytecode cached as in an installed tree
run() {  # $1: source tree; prints user + system CPU seconds
    /usr/bin/time -f "%U %S" env PYTHONPATH="$1/src" "$py" -c \
        "import sys; from skyfence.cli import main; sys.exit(main(sys.argv[1:]))" \
        detect "$input" -o "$out/episodes.parquet" --format parquet -q "${opts[@]}" 2>&1 >/dev/null |
        tail -1 | awk '{print $1 + $2}'
}
run "$wt" >/dev/null  # warm: numba's cache and the zone index of each tree
run "$root" >/dev/null
a=() b=()
for _ in $(seq "$runs"); do
    a+=("$(run "$wt")")
    b+=("$(run "$root")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
echo "A $rev: ${a[*]}  median $(median "${a[@]}") s CPU"
echo "B working tree: ${b[*]}  median $(median "${b[@]}") s CPU"
