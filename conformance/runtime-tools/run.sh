#!/usr/bin/env bash
# Run the OCI runtime-tools validation suite against a runtime binary.
#
# Usage:
#   conformance/runtime-tools/run.sh [options] RUNTIME_PATH [test-name...]
#
# Like upstream's `make localvalidation RUNTIME=...`: every validation/<name>.t
# is run from the suite dir (it needs ./runtimetest and ./rootfs-amd64.tar.gz
# there) with RUNTIME set, and its TAP is saved. Differences from upstream:
#   * each test has a timeout (a hanging runtime cannot block the run);
#   * RUNTIME is a small wrapper that adds `--root <per-test dir>` so every
#     test's container state is isolated and can be checked/cleaned after it;
#   * TMPDIR is a per-test dir, so the bundles (ocitest*) land there;
#   * after each test: leftover containers are force-deleted, leftover mounts
#     under the test dirs are lazily unmounted, processes whose root is in a
#     test bundle are SIGKILLed by pid, new cgroup dirs are rmdir'ed. All of
#     it is reported in the "notes" column.
#
# Options:
#   --results DIR        where to write results (default:
#                        $CACHE/results/<runtime-name>-<timestamp>)
#   --timeout SEC        per-test timeout (default 180)
#   --expected FILE      compare with an expected-results file (format below);
#                        exit 1 on a regression (expected PASS, got other)
#   --write-expected F   write the results in expected-file format to F
#   --no-root-wrapper    pass RUNTIME_PATH as is (no --root; state goes to the
#                        runtime's default root; leak checks still use `list`)
#   --runtime-arg ARG    extra global arg put before the subcommand (repeatable)
#   --hide-cgroup2       run the runtime in a private mount namespace where
#                        /sys/fs/cgroup/unified (this host's cgroup2 mount,
#                        holding hugetlb) is detached; crun refuses hybrid
#                        hosts whose cgroup2 has controllers. The host's own
#                        mounts are not changed.
#   --list               list test names and exit
#
# Expected-results format (conformance/runtime-tools/expected.txt):
#   # comment
#   <test-name> PASS|FAIL|SKIP|TIMEOUT|ANY [free-text reason]
#
# Status of a test:
#   PASS     exit 0, TAP has >=1 "ok" and no "not ok"; or (notes column)
#            "diag-only": plan 1..0 and no YAML "error" diagnostic (hooks,
#            prestart, poststart, poststop and their _fail variants report
#            failures only that way); or "silent-pass": exit 0 and no output
#            at all from a *_fail test (process_*_fail print TAP only when the
#            runtime wrongly accepted the bad config)
#   FAIL     a "not ok" (TODO excluded), or non-zero exit, or no TAP plan, or
#            plan 1..0 with a YAML "error" diagnostic
#   SKIP     exit 0 and only "# SKIP" results
#   TIMEOUT  killed by the per-test timeout
# Notes column: classification notes and what the cleanup found left over
# (containers=, procs=, mounts=, cgroups=, bundles=).
#
# The last line is "runtime-tools: N passed, N failed, N skipped".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${TSRUNC_CONFORMANCE_CACHE:-/var/cache/tsrunc-conformance}"
SUITE="$CACHE/suite"

RESULTS=""
TIMEOUT=180
EXPECTED=""
WRITE_EXPECTED=""
WRAP=1
HIDE_CG2=0
RT_ARGS=()
LIST=0
while [ $# -gt 0 ]; do
  case "$1" in
    --results) RESULTS="$2"; shift 2;;
    --timeout) TIMEOUT="$2"; shift 2;;
    --expected) EXPECTED="$2"; shift 2;;
    --write-expected) WRITE_EXPECTED="$2"; shift 2;;
    --no-root-wrapper) WRAP=0; shift;;
    --runtime-arg) RT_ARGS+=("$2"); shift 2;;
    --hide-cgroup2) HIDE_CG2=1; shift;;
    --list) LIST=1; shift;;
    -h|--help) awk 'NR>1 && /^#/ {sub(/^# ?/, ""); print; next} NR>1 {exit}' "$0"; exit 0;;
    --) shift; break;;
    -*) echo "unknown option $1" >&2; exit 2;;
    *) break;;
  esac
done

if [ "$LIST" = 1 ]; then
  ls "$SUITE/validation" 2>/dev/null | sed 's/\.t$//'; exit 0
fi
[ $# -ge 1 ] || { echo "usage: run.sh [options] RUNTIME_PATH [test-name...]   (--help for more)" >&2; exit 2; }
RUNTIME_PATH="$1"; shift
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 2; }
[ -x "$SUITE/runtimetest" ] && [ -f "$SUITE/rootfs-amd64.tar.gz" ] || {
  echo "run.sh: suite not built; run conformance/runtime-tools/setup.sh first" >&2; exit 2; }
RUNTIME_PATH="$(command -v "$RUNTIME_PATH" || true)"
[ -n "$RUNTIME_PATH" ] && [ -x "$RUNTIME_PATH" ] || { echo "run.sh: runtime not found/executable" >&2; exit 2; }
RUNTIME_PATH="$(readlink -f "$RUNTIME_PATH")"

if [ $# -gt 0 ]; then
  TESTS=("$@")
else
  mapfile -t TESTS < <(ls "$SUITE/validation" | sed 's/\.t$//' | sort)
fi
for t in "${TESTS[@]}"; do
  [ -x "$SUITE/validation/$t.t" ] || { echo "run.sh: no such test: $t (see --list)" >&2; exit 2; }
done

# run.sh cd's into the suite dir: make file arguments absolute first
if [ -n "$EXPECTED" ]; then
  [ -f "$EXPECTED" ] || { echo "run.sh: no such expected file: $EXPECTED" >&2; exit 2; }
  EXPECTED="$(readlink -f "$EXPECTED")"
fi
if [ -n "$WRITE_EXPECTED" ]; then
  mkdir -p "$(dirname "$WRITE_EXPECTED")"
  WRITE_EXPECTED="$(cd "$(dirname "$WRITE_EXPECTED")" && pwd)/$(basename "$WRITE_EXPECTED")"
fi
[ -z "$RESULTS" ] || { mkdir -p "$RESULTS"; RESULTS="$(cd "$RESULTS" && pwd)"; }

rname="$(basename "$RUNTIME_PATH")"
[ -n "$RESULTS" ] || RESULTS="$CACHE/results/$rname-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"/{tap,work}
RESULTS="$(cd "$RESULTS" && pwd)"
STATE_BASE="/run/tsrunc-conformance/$(basename "$RESULTS")"
mkdir -p "$STATE_BASE"

# ---------------------------------------------------------------- wrapper
WRAPPER="$RESULTS/work/runtime"
{
  echo '#!/bin/sh'
  echo "# generated by run.sh: isolates each test's container state"
  q=""; for a in "${RT_ARGS[@]+"${RT_ARGS[@]}"}"; do q="$q '$(printf %s "$a" | sed "s/'/'\\\\''/g")'"; done
  pre=""
  if [ "$HIDE_CG2" = 1 ]; then
    # private mount namespace (propagation private: nothing leaks back to the
    # host) in which the cgroup2 mount of this hybrid host is detached.
    pre="unshare --mount --propagation private -- /bin/sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec \"\$@\"' sh"
  fi
  if [ "$WRAP" = 1 ]; then
    echo "exec $pre '$RUNTIME_PATH' --root \"\$TSRUNC_CONF_ROOT\"$q \"\$@\""
  else
    echo "exec $pre '$RUNTIME_PATH'$q \"\$@\""
  fi
} > "$WRAPPER"
chmod +x "$WRAPPER"

rt() { # runtime command as the tests see it
  TSRUNC_CONF_ROOT="$1" "$WRAPPER" "${@:2}"
}

cg_snapshot() {
  find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d 2>/dev/null | sort
}
mnt_points() { awk '{print $5}' /proc/self/mountinfo | sort; }

{
  echo "runtime: $RUNTIME_PATH"
  "$RUNTIME_PATH" --version 2>&1 | head -3 | sed 's/^/  /'
  echo "suite:   $SUITE ($(cat "$SUITE/.stamp" 2>/dev/null | cut -c1-12))"
  echo "kernel:  $(uname -r)"
  echo "date:    $(date -Is)"
  echo "timeout: ${TIMEOUT}s  root-wrapper: $WRAP  hide-cgroup2: $HIDE_CG2  runtime-args: ${RT_ARGS[*]-}"
} > "$RESULTS/env.txt"

# ----------------------------------------------------------------- run
SUMMARY="$RESULTS/summary.tsv"
printf 'test\tstatus\tok\tnot_ok\tskip\texit\tseconds\tnotes\n' > "$SUMMARY"
cd "$SUITE" || exit 2
start_all=$(date +%s)
echo "runtime-tools validation: ${#TESTS[@]} tests against $RUNTIME_PATH" >&2
echo "results: $RESULTS" >&2

for t in "${TESTS[@]}"; do
  root="$STATE_BASE/$t"
  tmpd="$RESULTS/work/$t"
  rm -rf "$root" "$tmpd"; mkdir -p "$root" "$tmpd"
  cg_before="$(cg_snapshot)"
  t0=$(date +%s.%N)
  TSRUNC_CONF_ROOT="$root" RUNTIME="$WRAPPER" TMPDIR="$tmpd" \
    timeout -k 10 "$TIMEOUT" "./validation/$t.t" \
    > "$RESULTS/tap/$t.tap" 2> "$RESULTS/tap/$t.stderr" < /dev/null
  rc=$?
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')

  # ---- cleanup & leak detection
  leaks=()
  # containers left behind: with the wrapper, everything in this test's own
  # state root; without it (shared default root, maybe used by others too),
  # only containers whose bundle lies in this test's TMPDIR.
  if [ "$WRAP" = 1 ]; then
    ids="$(rt "$root" list -q 2>/dev/null || true)"
  else
    ids="$(rt "$root" list 2>/dev/null | awk -v d="$tmpd/" 'index($0, d) {print $1}' || true)"
  fi
  if [ -n "$ids" ]; then
    n=0
    for id in $ids; do
      rt "$root" kill "$id" KILL >/dev/null 2>&1 || true
      rt "$root" delete -f "$id" >/dev/null 2>&1 || true
      n=$((n+1))
    done
    leaks+=("containers=$n")
  fi
  # processes whose root is inside this test's bundles (started by this run)
  np=0
  for p in /proc/[0-9]*; do
    rr="$(readlink "$p/root" 2>/dev/null)" || continue
    case "$rr" in "$tmpd"/*) kill -9 "${p#/proc/}" 2>/dev/null && np=$((np+1));; esac
  done
  [ "$np" -gt 0 ] && leaks+=("procs=$np")
  # mounts under the test's dirs (host mount namespace)
  nm=0
  for m in $(mnt_points | grep -E "^($tmpd|$root)(/|$)" | sort -r); do
    umount -l "$m" 2>/dev/null && nm=$((nm+1))
  done
  [ "$nm" -gt 0 ] && leaks+=("mounts=$nm")
  # new cgroup directories (deepest first). Only names the suite/runtimes use
  # (cgrouptest, testdir, a container UUID) are removed: other users of this
  # machine may create cgroups concurrently and those are left alone.
  nc=0
  for d in $(comm -13 <(echo "$cg_before") <(cg_snapshot) | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-); do
    case "$d" in
      */cgrouptest|*/cgrouptest/*|*/testdir|*/testdir/*) ;;
      *) [[ "$(basename "$d")" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || continue;;
    esac
    rmdir "$d" 2>/dev/null && nc=$((nc+1))
  done
  [ "$nc" -gt 0 ] && leaks+=("cgroups=$nc")
  left="$(ls -A "$tmpd" 2>/dev/null | grep -c . || true)"
  [ "$left" -gt 0 ] && leaks+=("bundles=$left")
  rm -rf "$tmpd" "$root" 2>/dev/null

  # ---- classify
  tap="$RESULTS/tap/$t.tap"
  ok=$(grep -cE '^ok [0-9]+' "$tap" || true)
  notok=$(grep -E '^not ok [0-9]+' "$tap" | grep -vc '# TODO' || true)
  skip=$(grep -cE '^ok [0-9]+ # SKIP' "$tap" || true)
  ok=$((ok - skip))
  plan=$(grep -cE '^1\.\.[0-9]+' "$tap" || true)
  yaml_err=$(grep -cE '^ {2,}"error": "[^"]' "$tap" || true)
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=TIMEOUT
  elif [ "$rc" = 0 ] && [ ! -s "$tap" ] && [[ "$t" == *_fail ]]; then
    # *_fail tests (process_rlimits_fail, process_capabilities_fail) print
    # TAP only when the runtime wrongly accepted the config.
    status=PASS; leaks+=("silent-pass")
  elif [ "$notok" -gt 0 ] || [ "$rc" != 0 ] || [ "$plan" = 0 ]; then status=FAIL
  elif [ "$ok" = 0 ] && [ "$skip" = 0 ] && [ "$yaml_err" -gt 0 ]; then status=FAIL
  elif [ "$ok" = 0 ] && [ "$skip" = 0 ]; then
    # hooks/prestart/poststart/poststop(_fail): plan 1..0, they report a
    # failure only as a YAML "error" diagnostic; none means the check held.
    status=PASS; leaks+=("diag-only")
  elif [ "$ok" = 0 ]; then status=SKIP
  else status=PASS
  fi
  leakstr="$(IFS=,; echo "${leaks[*]-}")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$status" "$ok" "$notok" "$skip" "$rc" "$secs" "${leakstr:--}" >> "$SUMMARY"
  printf '  %-34s %-7s %4ss %s\n' "$t" "$status" "$secs" "${leakstr}" >&2
done
rmdir "$STATE_BASE" 2>/dev/null; rmdir /run/tsrunc-conformance 2>/dev/null
rm -rf "$RESULTS/work"
total=$(( $(date +%s) - start_all ))

# ------------------------------------------------------------- summary
{
  printf '\n%-34s %-7s %4s %6s %4s %4s %6s  %s\n' TEST STATUS OK NOT_OK SKIP EXIT SECS NOTES
  tail -n +2 "$SUMMARY" | while IFS=$'\t' read -r t s o n k r sec l; do
    printf '%-34s %-7s %4s %6s %4s %4s %6s  %s\n' "$t" "$s" "$o" "$n" "$k" "$r" "$sec" "$l"
  done
  echo
  echo "total time: ${total}s   results: $RESULTS"
} | tee "$RESULTS/summary.txt"

if [ -n "$WRITE_EXPECTED" ]; then
  {
    echo "# runtime-tools validation results for $("$RUNTIME_PATH" --version 2>&1 | head -1)"
    echo "# written by run.sh on $(date -I); format: <test> PASS|FAIL|SKIP|TIMEOUT|ANY [reason]"
    tail -n +2 "$SUMMARY" | while IFS=$'\t' read -r t s o n k r sec l; do
      echo "$t $s ok=$o not_ok=$n skip=$k exit=$r"
    done
  } > "$WRITE_EXPECTED"
fi

rc_final=0
if [ -n "$EXPECTED" ]; then
  regress=0; improve=0
  echo
  while IFS=$'\t' read -r t s _; do
    [ "$t" = test ] && continue
    exp="$(awk -v t="$t" '$1==t {print $2; exit}' "$EXPECTED")"
    [ -z "$exp" ] && { echo "NOTE  $t: not in $EXPECTED (got $s)"; continue; }
    [ "$exp" = ANY ] && continue
    if [ "$exp" != "$s" ]; then
      if [ "$exp" = PASS ]; then echo "REGRESSION  $t: expected PASS, got $s"; regress=$((regress+1))
      elif [ "$s" = PASS ]; then echo "IMPROVED    $t: expected $exp, got PASS (update $EXPECTED)"; improve=$((improve+1))
      else echo "CHANGED     $t: expected $exp, got $s"; fi
    fi
  done < "$SUMMARY"
  echo "expected-file check: $regress regressions, $improve improvements"
  [ "$regress" -gt 0 ] && rc_final=1
fi

np=$(awk -F'\t' 'NR>1 && $2=="PASS"' "$SUMMARY" | wc -l)
nf=$(awk -F'\t' 'NR>1 && ($2=="FAIL" || $2=="TIMEOUT")' "$SUMMARY" | wc -l)
ns=$(awk -F'\t' 'NR>1 && $2=="SKIP"' "$SUMMARY" | wc -l)
echo "runtime-tools: $np passed, $nf failed, $ns skipped"
if [ -z "$EXPECTED" ] && [ "$nf" -gt 0 ]; then rc_final=1; fi
exit "$rc_final"
