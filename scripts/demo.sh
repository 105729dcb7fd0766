#!/usr/bin/env bash
# The main job: boot every flat test guest and scenario under the native engine and print what
# happened to each, then run the guest kernel's workloads under every engine and compare them,
# and finally price nanobench and forkwait with `hvsim compare` (cost profile p4-2006, beside
# Adams & Agesen's published numbers; docs/cost-model.md).
# Usage: scripts/demo.sh BUILD_DIR
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
echo "engine: native; virtual time: 1 instruction = 1 ns"

# The comparison: the guest kernel's workloads under every engine. The console output must be
# the same; what differs is what the hypervisor had to do (VM exits, fills, hidden faults).
echo
echo "engines compared (console output identical to native is required):"
printf '%-10s %-18s %-7s %12s %10s %10s %10s %8s  %s\n' scenario engine result instructions "VM exits" fills "hidden PF" "host ms" "top exits (vtx) / callouts (bt)"
for scenario in nanobench forkwait selftest; do
  reference=""
  for engine in native bt vtx-2006 vtx-ept; do
    args=(run "scenarios/$scenario.toml")
    case "$engine" in
      bt) args+=(--engine bt) ;;
      vtx-*) args+=(--engine vtx --preset "$engine") ;;
    esac
    start=$(date +%s%N)
    "$hvsim" "${args[@]}" >"$build/demo.stdout" 2>"$build/demo.stderr"; status=$?
    host_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$engine" = native ] && cp "$build/demo.stdout" "$build/demo.reference"
    result=PASS
    if [ "$status" -ne 0 ] || ! cmp -s "$build/demo.stdout" "$build/demo.reference"; then result=FAIL; fail=$((fail + 1)); fi
    summary=$(grep '^hvsim: guest0 exited' "$build/demo.stderr" | tail -1)
    exits_line=$(grep 'VM exits:' "$build/demo.stderr" | tail -1)
    paging_line=$(grep 'paging: ' "$build/demo.stderr" | tail -1)
    insns=$(sed -n 's/.* after \([0-9]*\) instructions.*/\1/p' <<<"$summary")
    exits=$(sed -n 's/.*: \([0-9]*\) VM exits:.*/\1/p' <<<"$exits_line")
    fills=$(sed -n 's/.*paging: \([0-9]*\) fills.*/\1/p' <<<"$paging_line")
    hidden=$(sed -n 's/.* \([0-9]*\) hidden faults.*/\1/p' <<<"$paging_line")
    top=$(sed -n 's/.*VM exits: //p' <<<"$exits_line" | cut -c1-60)
    [ "$engine" = bt ] && top=$(grep ' bt: ' "$build/demo.stderr" | sed -n 's/.*; \([0-9]* callouts\).*/\1/p')
    printf '%-10s %-18s %-7s %12s %10s %10s %10s %8s  %s\n' "$scenario" "$engine" "$result" "$insns" "${exits:--}" \
      "${fills:--}" "${hidden:--}" "$host_ms" "${top:-}"
  done
done
echo
echo "bt translates the guest kernel's code, as VMware's software VMM did (shadow paging, docs/binary-translation.md);"
echo "vtx-2006 is first-generation VT-x (shadow paging, no TPR shadow) as Adams & Agesen measured it;"
echo "vtx-ept adds EPT, VPID and a TPR shadow (docs/vtx.md)."

# Modeled cycles: the events each engine counted, priced by a cost profile, per program
# (a run with 2N iterations minus one with N), with the paper's numbers beside ours. A non-zero
# status (a guest that misbehaved or crashed, bad input) counts as a failure.
for scenario in nanobench forkwait; do
  echo
  "$hvsim" compare "scenarios/$scenario.toml" --profile p4-2006 -q; status=$?
  if [ "$status" -ne 0 ]; then echo "hvsim compare $scenario: FAIL (exit status $status)"; fail=$((fail + 1)); fi
done
echo
echo "Cost profiles are in scenarios/profiles/ (p4-2006, core2-2006, sandybridge-2011); docs/cost-model.md"
echo "explains the model and where our numbers differ from the paper's."
[ "$fail" -eq 0 ] && echo "all guests behaved as expected" || { echo "$fail run(s) did not behave as expected"; exit 1; }
