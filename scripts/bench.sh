#!/usr/bin/env bash
# Throughput of `ecr-audit scan` against the floor of reading the files, side by side in one run.
#
#   scripts/bench.sh [N] [REPS]         default N=100000 repositories, REPS=5
#   MEMORY=1000000 scripts/bench.sh     also: peak memory of a scan of MEMORY files (/usr/bin/time -v)
#
# Builds in release mode, generates the export once (kept under target/bench-data), warms the
# cache, then runs REPS rounds of: the floor (walk + read on all cores), the scan of the tree to
# CSV, the JSON Lines floor (each line into serde_json::Value on all cores), and the scan of the
# JSON Lines file; and the same for export-unique.jsonl, whose policy texts never repeat (the
# worst case for the scan's verdict cache); and the tree and JSON Lines file of a non-templated
# estate (`gen_export --distinct`: organisation, VPC endpoint and account values vary per
# repository, so most policy texts differ). Prints the medians and the ratios scan/floor. Timing
# is printed, never asserted.
#
# Peers (issue 13), timed on the same files after those rounds, PEER_REPS times (default 1: they
# are slow), skipped with a note when missing, never failing the bench (PEERS=0 skips them):
#   jq              scripts/peers/pull.jq, ONE jq process over every file of the tree (all valid
#                   JSON), and one over the JSON Lines file: decodes policyText, reads each
#                   statement's Effect/Principal/Action for the three pull actions and the account
#   policyuniverse  scripts/peers/policyuniverse_scan.py (Netflix's library, installed into a venv
#                   under target/ when missing): Policy(doc), whos_allowed(), is_internet_accessible()
# and prints the ratios jq / scan and policyuniverse / scan.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
REPS=${2:-5}
PEER_REPS=${PEER_REPS:-1}
PEERS=${PEERS:-1}
JQ=${JQ:-jq}  # the jq to time
ACCOUNT=111122223333
DATA=target/bench-data/$N
cargo build --release --quiet --bin ecr-audit --example gen_export --example floor
BIN=target/release/ecr-audit
EX=target/release/examples
if [ ! -f "$DATA/export-unique.jsonl" ]; then
  rm -rf "$DATA"
  "$EX/gen_export" "$DATA" "$N"
fi
DDATA=target/bench-data/$N-distinct
if [ ! -f "$DDATA/export.jsonl" ]; then
  rm -rf "$DDATA"
  "$EX/gen_export" "$DDATA" "$N" 42 --distinct
fi

# Appends "name wall user system" (seconds; user and system of all its processes) to RESULTS.
timeit() { # name, command...
  local name=$1; shift
  local t
  t=$({ TIMEFORMAT='%3R %3U %3S'; time "$@" >/dev/null 2>&1; } 2>&1) || true
  echo "$name $t" >>"$RESULTS"
}

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS" "$RESULTS.skipped"' EXIT
# Warm the page cache and the binaries.
"$EX/floor" tree "$DATA/tree" 2>/dev/null
"$BIN" scan "$DATA/tree" --account 111122223333 --format csv --progress never --fail-on never >/dev/null
"$EX/floor" tree "$DDATA/tree" 2>/dev/null
for _ in $(seq "$REPS"); do
  timeit floor_tree "$EX/floor" tree "$DATA/tree"
  timeit scan_tree "$BIN" scan "$DATA/tree" --account 111122223333 --format csv --progress never --fail-on never
  timeit floor_jsonl "$EX/floor" jsonl "$DATA/export.jsonl"
  timeit scan_jsonl "$BIN" scan "$DATA/export.jsonl" --account 111122223333 --format csv --progress never --fail-on never
  timeit floor_unique "$EX/floor" jsonl "$DATA/export-unique.jsonl"
  timeit scan_unique "$BIN" scan "$DATA/export-unique.jsonl" --account 111122223333 --format csv --progress never --fail-on never
  timeit floor_dtree "$EX/floor" tree "$DDATA/tree"
  timeit scan_dtree "$BIN" scan "$DDATA/tree" --account 111122223333 --format csv --progress never --fail-on never
  timeit floor_djsonl "$EX/floor" jsonl "$DDATA/export.jsonl"
  timeit scan_djsonl "$BIN" scan "$DDATA/export.jsonl" --account 111122223333 --format csv --progress never --fail-on never
done

# --- peers ---
SKIPPED=()
# One jq process over every file of a tree: the paths (relative, to keep the argument list short)
# go on one command line, with the stack limit raised so that Linux allows up to 6 MiB of
# arguments. Too many files for that fails (E2BIG) instead of splitting into several processes.
jq_tree() { # TREE
  (
    cd "$1"
    ulimit -s unlimited 2>/dev/null || ulimit -s "$(ulimit -Hs)" 2>/dev/null || true
    mapfile -d '' files < <(find . -type f -printf '%P\0')
    exec "$JQ" -r --arg account "$ACCOUNT" -f "$ROOT/scripts/peers/pull.jq" "${files[@]}"
  )
}
jq_jsonl() { "$JQ" -r --arg account "$ACCOUNT" -f scripts/peers/pull.jq "$1"; }
PYPEER=target/peers-venv/bin/python
pu_scan() { "$PYPEER" scripts/peers/policyuniverse_scan.py "$ACCOUNT" "$1"; }
# Checks a peer once (and warms it): it must write one line per repository (and a header).
peer_works() { # lines, command...
  local want=$1; shift
  local got
  got=$("$@" 2>/dev/null | wc -l) || got=0
  [ "$got" -eq "$want" ]
}
ROOT=$PWD
HAVE_JQ=0 HAVE_PU=0
if [ "$PEERS" != 0 ]; then
  if ! command -v "$JQ" >/dev/null 2>&1; then
    SKIPPED+=("jq not installed")
  elif ! peer_works "$N" jq_tree "$DATA/tree"; then
    SKIPPED+=("jq: one jq process over the $N files of the tree failed (argument list too long?)")
  else
    HAVE_JQ=1
  fi
  if [ ! -x "$PYPEER" ] || ! "$PYPEER" -c 'import policyuniverse' 2>/dev/null; then
    { python3 -m venv target/peers-venv &&
      "$PYPEER" -m pip install --quiet --disable-pip-version-check policyuniverse; } >/dev/null 2>&1 || true
  fi
  if ! "$PYPEER" -c 'import policyuniverse' 2>/dev/null; then
    SKIPPED+=("policyuniverse not installed (python3 -m venv target/peers-venv; pip install policyuniverse)")
  elif ! peer_works "$((N + 1))" pu_scan "$DATA/export.jsonl"; then
    SKIPPED+=("policyuniverse: the script failed")
  else
    HAVE_PU=1
  fi
fi
for _ in $(seq "$PEER_REPS"); do
  if [ "$HAVE_JQ" = 1 ]; then
    timeit jq_tree jq_tree "$DATA/tree"
    timeit jq_jsonl jq_jsonl "$DATA/export.jsonl"
    timeit jq_dtree jq_tree "$DDATA/tree"
    timeit jq_djsonl jq_jsonl "$DDATA/export.jsonl"
  fi
  if [ "$HAVE_PU" = 1 ]; then
    timeit pu_tree pu_scan "$DATA/tree"
    timeit pu_jsonl pu_scan "$DATA/export.jsonl"
    timeit pu_dtree pu_scan "$DDATA/tree"
    timeit pu_djsonl pu_scan "$DDATA/export.jsonl"
  fi
done
printf '%s\n' "${SKIPPED[@]}" >"$RESULTS.skipped"

python3 - "$RESULTS" "$N" "$REPS" "$PEER_REPS" <<'PY'
import statistics, sys
runs, cpu = {}, {}
for line in open(sys.argv[1]):
    name, wall, user, system = line.split()
    runs.setdefault(name, []).append(float(wall))
    cpu.setdefault(name, []).append(float(user) + float(system))
med = {k: statistics.median(v) for k, v in runs.items()}
cpu = {k: statistics.median(v) for k, v in cpu.items()}
print(f"{sys.argv[2]} repositories, {sys.argv[3]} repetitions, median seconds:")
for k in ["floor_tree", "scan_tree", "floor_jsonl", "scan_jsonl", "floor_unique", "scan_unique",
          "floor_dtree", "scan_dtree", "floor_djsonl", "scan_djsonl"]:
    print(f"  {k:12} {med[k]:8.3f}   (min {min(runs[k]):.3f}, max {max(runs[k]):.3f})")
print(f"ratio scan_tree / floor_tree   = {med['scan_tree'] / med['floor_tree']:.2f}  (goal <= 1.5)")
print(f"ratio scan_jsonl / floor_jsonl = {med['scan_jsonl'] / med['floor_jsonl']:.2f}  (goal <= 1.5)")
print(f"ratio scan_unique / floor_unique = {med['scan_unique'] / med['floor_unique']:.2f}  (no policy text repeats: the verdict cache never hits)")
print(f"distinct estate (most policy texts differ):")
print(f"ratio scan_dtree / floor_dtree   = {med['scan_dtree'] / med['floor_dtree']:.2f}  (goal <= 2.0)")
print(f"ratio scan_djsonl / floor_djsonl = {med['scan_djsonl'] / med['floor_djsonl']:.2f}  (goal <= 1.5)")
print(f"peers, {sys.argv[4]} run(s) each: median wall seconds, and peer / scan (how many times faster")
print("the scan is) in wall time and in CPU time (user + system: the scan uses every core, the peers one):")
for peer, what in [("jq", "jq"), ("pu", "policyuniverse")]:
    for kind, label in [("tree", "tree"), ("jsonl", "JSON Lines"), ("dtree", "distinct tree"),
                        ("djsonl", "distinct JSON Lines")]:
        k = f"{peer}_{kind}"
        if k in med:
            goal = "  (goal >= 20)" if peer == "jq" else ""
            name = f"{what} / scan, {label}"
            wall = med[k] / med["scan_" + kind]
            cpus = cpu[k] / cpu["scan_" + kind]
            print(f"  {name:45} {med[k]:8.3f} s  wall {wall:6.1f}  cpu {cpus:6.1f}{goal}")
for line in open(sys.argv[1] + ".skipped"):
    if line.strip():
        print(f"  skipped: {line.strip()}")
PY

if [ -n "${MEMORY:-}" ]; then
  MDATA=target/bench-data/$MEMORY
  [ -f "$MDATA/export.jsonl" ] || "$EX/gen_export" "$MDATA" "$MEMORY"
  for n in "$N" "$MEMORY"; do
    D=target/bench-data/$n/tree
    /usr/bin/time -v "$BIN" scan "$D" --account 111122223333 --format csv --progress never \
      --fail-on never 2>&1 >/dev/null | awk -v n="$n" '/Maximum resident/ {printf "peak RSS scanning %s files: %.0f MB\n", n, $6/1024}'
  done
fi
