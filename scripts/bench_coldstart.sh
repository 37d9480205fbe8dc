#!/usr/bin/env bash
# Cold-start benchmark (docs/benchmarks.md, "Cold start"): wall time, CPU time (user + system; less sensitive to
# other processes on the machine) and peak RSS of whole `vitscope` processes, the
# page cache warm, rounds interleaved across launchers and cases so that a busy machine slows all alike; min and
# median per launcher and case, with the load average before and after.
#
#   scripts/bench_coldstart.sh [-n ROUNDS] [--weights FILE] [--photo JPG] [LAUNCHER...]
#
# LAUNCHER defaults to this checkout's scripts/vitscope; give another checkout's launcher (an older commit, built
# once) to compare. A launcher may be prefixed with environment settings: 'VITSCOPE_CDS=0 scripts/vitscope'.
# With VITSCOPE_TIMINGS=1 in a launcher's prefix, its per-phase lines (src/main/java/io/vitscope/cli/Timings.java)
# are averaged too. The ViT-B/16 case runs when --weights is given: a timm vit_base_patch16_224 safetensors file
# (random weights do: /usr/bin/python3 scripts/make_checkpoint.py vit_base_patch16_224 FILE --seed 0).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=5
weights=""
photo="$here/images/fashion/fashion_0_ankle_boot.png"
launchers=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) rounds="$2"; shift 2 ;;
    --weights) weights="$2"; shift 2 ;;
    --photo) photo="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) launchers+=("$1"); shift ;;
  esac
done
[ ${#launchers[@]} -gt 0 ] || launchers=("$here/scripts/vitscope")

cases=("help|--help" "embedded|predict $here/images/fashion/fashion_0_ankle_boot.png")
if [ -n "$weights" ]; then
  cases+=("vit_base_patch16_224|predict $photo --model vit_base_patch16_224 --weights $weights")
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for launcher in "${launchers[@]}"; do # first runs build, make archives and fill the page cache: not timed
  for c in "${cases[@]}"; do
    env $launcher ${c#*|} >/dev/null 2>&1 || true
  done
done
for r in $(seq "$rounds"); do
  for i in "${!launchers[@]}"; do
    for c in "${cases[@]}"; do
      f="$out/$i.${c%%|*}"
      # shellcheck disable=SC2086 # the launcher's prefix and the case's arguments are word lists
      /usr/bin/time -f "%e %M %U %S" -o "$f.time" env ${launchers[$i]} ${c#*|} >/dev/null 2>"$f.err" || true
      cat "$f.time" >> "$f.runs"
      grep '^vitscope: timing' "$f.err" >> "$f.phases" || true
    done
  done
done
min_median() { sort -g | awk '{ a[NR] = $1 } END { printf "%s %s\n", a[1], NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.0f", kb / 1024 }'; } # GNU time's %M is in KiB
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-22s %8s %8s %8s %8s %10s %10s  %s\n' "#" case "wall min" "median" "CPU min" "median" "RSS min" "median" \
  launcher
for i in "${!launchers[@]}"; do
  for c in "${cases[@]}"; do
    f="$out/$i.${c%%|*}"
    read -r wmin wmed < <(cut -d' ' -f1 "$f.runs" | min_median)
    read -r mmin mmed < <(cut -d' ' -f2 "$f.runs" | min_median)
    read -r cmin cmed < <(awk '{ print $3 + $4 }' "$f.runs" | min_median)
    printf '%-4s %-22s %7.2fs %7.2fs %7.2fs %7.2fs %7sMiB %7sMiB  %s (%d runs)\n' "$i" "${c%%|*}" "$wmin" "$wmed" \
      "$cmin" "$cmed" "$(mib "$mmin")" "$(mib "$mmed")" "${launchers[$i]}" "$(wc -l < "$f.runs")"
    if [ -s "$f.phases" ]; then
      awk '{ sub(/^vitscope: timing /, ""); ms = $0; sub(/ ms .*/, "", ms); n = split(ms, a, " "); v = a[n]
             name = $0; sub(/ +[0-9]+ ms .*/, "", name)
             if (!(name in sum)) order[++k] = name
             sum[name] += v; cnt[name]++
             if (!(name in lo) || v < lo[name]) lo[name] = v }
           END { for (j = 1; j <= k; j++) printf "       phase %-30s mean %5d ms  min %5d ms\n", order[j],
                   sum[order[j]] / cnt[order[j]], lo[order[j]] }' "$f.phases"
    fi
  done
done
