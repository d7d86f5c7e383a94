#!/usr/bin/env bash
# Are the outputs over every sample export byte-identical before and after a change (issue 13)?
#
#   scripts/same-output.sh [REV]     REV defaults to HEAD; e.g. `main`, `HEAD~1`, a merge base
#
# Builds REV in a temporary `git worktree` (under target/, removed at the end) and the working
# tree as it is (uncommitted changes included), both in debug mode and sharing this checkout's
# target directory (CARGO_TARGET_DIR, else target/), so only the project's own crate is compiled
# again. REV's crate is built with a profile override of its own (codegen-units = 255, which
# changes no behaviour): cargo names a path package's artifacts by its path relative to the
# workspace, so without it REV's build would take the place of the working tree's, and cargo,
# comparing file times, would then take the working tree's sources for built. Then runs both binaries from this checkout's root, on this checkout's testdata/, with
# the same arguments and environment:
#   scan     testdata/export and each folder of it, in every --format (the table at a fixed
#            width), under three sets of options (one account; two accounts and a registry policy
#            scope; testdata/ecr-audit.toml with its context and suppressions), and --evidence
#   explain  every record the scan of testdata/export reports, with and without the config
#   gitpod   testdata/gitpod against testdata/export in every format, and each project alone
#   rules
# Each case's command line, exit status, standard output and standard error are compared.
# Normalised, as they must differ: the report time (SOURCE_DATE_EPOCH=0 fixes it), the elapsed
# seconds of the table's closing line and of the summary ("(0.01 s)", "in 0.01 s"), each binary's
# version and git commit. Any other
# difference fails (exit 1) with the first lines of the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REV=${1:-HEAD}
COMMIT=$(git rev-parse --verify "$REV^{commit}")
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d "$ROOT/target/same-output.XXXXXX")
cleanup() {
  git -C "$ROOT" worktree remove --force "$WORK/rev" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  git -C "$ROOT" worktree prune
}
trap cleanup EXIT

echo "building $REV ($COMMIT) in a temporary worktree"
git worktree add --quiet --detach "$WORK/rev" "$COMMIT"
(cd "$WORK/rev" && CARGO_TARGET_DIR=$TARGET cargo build --quiet --locked --bin ecr-audit \
  --config 'profile.dev.package.ecr-audit.codegen-units=255')
cp "$TARGET/debug/ecr-audit" "$WORK/before"
echo "building the working tree"
CARGO_TARGET_DIR=$TARGET cargo build --quiet --locked --bin ecr-audit
cp "$TARGET/debug/ecr-audit" "$WORK/after"

# The same environment for both: nothing of the caller's configuration, a fixed report time.
run_env=(env -u ECR_AUDIT_ACCOUNT -u ECR_AUDIT_CONFIG SOURCE_DATE_EPOCH=0 COLUMNS=120 NO_COLOR=1)

# Runs every case with BIN, one numbered file per case in OUT.
run_all() { # BIN OUT
  local bin=$1 out=$2 n=0
  mkdir -p "$out"
  local version commit
  version=$("$bin" --version | sed -n '1s/^ecr-audit //p')
  commit=$("$bin" --version | sed -n 's/^commit: //p')
  case1() { # args...
    n=$((n + 1))
    local file rc=0
    file=$(printf '%s/%04d' "$out" "$n")
    {
      echo "\$ ecr-audit $*"
      "${run_env[@]}" "$bin" "$@" >"$file.stdout" 2>"$file.stderr" || rc=$?
      echo "exit $rc"
      echo "--- stdout"
      cat "$file.stdout"
      echo "--- stderr"
      cat "$file.stderr"
    } | normalise >"$file"
    rm -f "$file.stdout" "$file.stderr"
  }
  # The elapsed seconds of the table's closing line and of the summary on standard error.
  normalise() {
    sed -E -e 's/\([0-9]+\.[0-9]{2} s\)$/(T s)/' -e 's/ in [0-9]+\.[0-9]{2} s; / in T s; /' \
      -e "s/${version//./\\.}/VERSION/g" ${commit:+-e "s/$commit/COMMIT/g"}
  }
  local options=(
    "--account 111122223333"
    "--account 111122223333 --account 999988887777 --registry-policy-scope v2"
    "--config testdata/ecr-audit.toml"
  )
  local paths=(testdata/export testdata/export/*/)
  local o p f
  for o in "${options[@]}"; do
    for p in "${paths[@]}"; do
      for f in table csv json markdown html sarif; do
        # shellcheck disable=SC2086 # the options are words
        case1 scan "${p%/}" $o --format "$f" --progress never
      done
    done
    # shellcheck disable=SC2086
    case1 scan testdata/export $o --format json --evidence --progress never
    # shellcheck disable=SC2086
    case1 scan testdata/export $o --format markdown --evidence --progress never
  done
  for o in "--account 111122223333" "--config testdata/ecr-audit.toml"; do
    while IFS= read -r r; do
      # shellcheck disable=SC2086
      case1 explain testdata/export --record "$r" $o
    done <"$WORK/records"
    for f in table csv json markdown html; do
      # shellcheck disable=SC2086
      case1 gitpod --export testdata/export testdata/gitpod $o --format "$f" --progress never
    done
  done
  for p in testdata/gitpod/*/; do
    case1 gitpod --export testdata/export "${p%/}" --account 111122223333 --format csv \
      --progress never
  done
  case1 rules
  echo "$n cases"
}

# The records to explain: every source:record the current scan reports (sources without a comma).
"${run_env[@]}" "$WORK/after" scan testdata/export --account 111122223333 --format csv \
  --progress never --fail-on never 2>/dev/null |
  awk -F, 'NR > 1 && $1 !~ /"/ { print $1 ":" $2 }' | sort -u >"$WORK/records"

echo -n "before: "
run_all "$WORK/before" "$WORK/out-before"
echo -n "after:  "
run_all "$WORK/after" "$WORK/out-after"
if diff -r -q "$WORK/out-before" "$WORK/out-after" >"$WORK/differ"; then
  echo "identical: every output of $REV and of the working tree is the same"
else
  echo "DIFFERENT: $(wc -l <"$WORK/differ") of the cases differ:"
  awk '/^Files / { print $2 }' "$WORK/differ" | while read -r case; do
    echo "  $(head -n 1 "$WORK/out-after/$(basename "$case")")"
  done
  echo "the first differences (- $REV, + working tree):"
  for case in $(awk '/^Files / { print $2 }' "$WORK/differ" | head -n 3); do
    case=$(basename "$case")
    echo "=== $(head -n 1 "$WORK/out-after/$case")"
    { diff -u "$WORK/out-before/$case" "$WORK/out-after/$case" || true; } | tail -n +3 | head -n 20 || true
  done
  exit 1
fi
