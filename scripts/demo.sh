#!/usr/bin/env bash
# The main job, for now: boot every flat test guest under the native engine and print what
# happened to each (later: the engine comparison). Usage: scripts/demo.sh BUILD_DIR
set -uo pipefail
build="${1:-build}"
hvsim="$build/hvsim"
guests="$build/guest/flat"
declare -A expected=([selftest_exit]=7 [triple_fault]=120)

printf '%-16s %-7s %6s %12s %10s %10s %8s %8s %9s %8s\n' \
  guest result status instructions "virt. us" exceptions irqs syscalls "trap pts" "host ms"
fail=0
# The test guests of guest/flat (other folders build guests into the same place, some of which
# spin forever on purpose).
for src in guest/flat/*.asm; do
  name=$(basename "$src" .asm)
  bin="$guests/$name.bin"
  start=$(date +%s%N)
  "$hvsim" run --flat "$bin" >/dev/null 2>"$build/demo.stderr"; status=$?
  host_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  summary=$(grep '^hvsim: guest0' "$build/demo.stderr" | tail -1)
  want=${expected[$name]:-0}
  result=PASS; [ "$status" -eq "$want" ] || { result=FAIL; fail=$((fail + 1)); }
  num() { sed -n "s/.*[ (]\([0-9][0-9]*\) $1.*/\1/p" <<<"$summary"; }
  insns=$(num instructions); ns=$(num 'ns virtual')
  printf '%-16s %-7s %6s %12s %10s %10s %8s %8s %9s %8s\n' "$name" "$result" "$status" "$insns" \
    "$(( ${ns:-0} / 1000 ))" "$(num exceptions)" "$(num interrupts)" "$(num syscalls)" "$(num 'trap points')" "$host_ms"
done
for scenario in scenarios/*.toml; do
  name="scenario:$(basename "$scenario" .toml)"
  start=$(date +%s%N)
  "$hvsim" run "$scenario" >/dev/null 2>"$build/demo.stderr"; status=$?
  host_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  summary=$(grep '^hvsim: guest0' "$build/demo.stderr" | tail -1)
  result=PASS; [ "$status" -eq 0 ] || { result=FAIL; fail=$((fail + 1)); }
  num() { sed -n "s/.*[ (]\([0-9][0-9]*\) $1.*/\1/p" <<<"$summary"; }
  ns=$(num 'ns virtual')
  printf '%-16s %-7s %6s %12s %10s %10s %8s %8s %9s %8s\n' "$name" "$result" "$status" "$(num instructions)" \
    "$(( ${ns:-0} / 1000 ))" "$(num exceptions)" "$(num interrupts)" "$(num syscalls)" "$(num 'trap points')" "$host_ms"
done
echo
echo "engine: native (bt and vtx are later issues); virtual time: 1 instruction = 1 ns"
[ "$fail" -eq 0 ] && echo "all guests behaved as expected" || { echo "$fail guest(s) did not"; exit 1; }
