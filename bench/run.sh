#!/usr/bin/env bash
# Runs the benchmarks described in bench/README.md and prints a Markdown table of the
# results. Needs root (the scan benchmark mounts an overlay). Takes about 2-4 minutes.
#
# Settings (environment):
#   RUNS=7          measured runs of each timing (medians; at least 5 for the targets)
#   FILES=100000    files of the scan benchmarks
#   MEMORY_RUNS=3   processes of each memory benchmark (the table gives the highest peak)
#   HASH_MIB=1024   size of the hashed file, MiB
#   BENCH_TMP=/var/tmp   where the temporary data goes: must be a disk (ext4, xfs, btrfs), not tmpfs
#   CREATE=view     how scan-setup creates the files: "view" (through the mounted merged
#                   view, as a user would) or "real" (straight into the store's real/ before
#                   the mount: about 10 s faster, but the new directories then lack the
#                   trusted.overlay.opaque=y that the overlay gives them)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-7}
FILES=${FILES:-100000}
MEMORY_RUNS=${MEMORY_RUNS:-3}
HASH_MIB=${HASH_MIB:-1024}
BENCH_TMP=${BENCH_TMP:-/var/tmp}
CREATE=${CREATE:-view}

die() { echo "run.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: the scan benchmarks mount an overlay"
for tool in dotnet openssl find awk mountpoint umount; do
    command -v "$tool" >/dev/null || die "$tool is needed (Debian: ./setup.sh installs openssl and findutils)"
done
case "$CREATE" in real | view) ;; *) die "CREATE must be 'real' or 'view'" ;; esac
[ "$RUNS" -ge 1 ] 2>/dev/null || die "RUNS must be a positive number"
[ "$MEMORY_RUNS" -ge 1 ] 2>/dev/null || die "MEMORY_RUNS must be a positive number"
[ -d "$BENCH_TMP" ] || die "BENCH_TMP=$BENCH_TMP does not exist"
fstype=$(findmnt -n -o FSTYPE -T "$BENCH_TMP" 2>/dev/null || stat -f -c %T "$BENCH_TMP")
case "$fstype" in
    tmpfs | ramfs | overlay | overlayfs | nfs*) die "BENCH_TMP=$BENCH_TMP is on $fstype: use a directory on a disk (ext4, xfs, btrfs)" ;;
esac
stale=$(findmnt -rn -t overlay -o TARGET 2>/dev/null | grep '/realize-bench\.' || true)
[ -z "$stale" ] || echo "run.sh: warning: overlays of an earlier run are still mounted (another run, or one killed): $stale" >&2
need_mib=$((HASH_MIB + 2048))
avail_mib=$(($(df -Pk "$BENCH_TMP" | awk 'NR == 2 { print $4 }') / 1024))
[ "$avail_mib" -ge "$need_mib" ] || die "BENCH_TMP=$BENCH_TMP has $avail_mib MiB free, $need_mib are needed"

# --- Build (Release, into bench/artifacts: the src projects' own bin/ and obj/ are left alone).
echo "== building bench/Realize.Bench (Release)" >&2
dotnet build "$here/Realize.Bench/Realize.Bench.csproj" -c Release --artifacts-path "$here/artifacts" \
    -nologo -clp:ErrorsOnly -v:quiet >&2
bench="$here/artifacts/bin/Realize.Bench/release/realize-bench"
[ -x "$bench" ] || die "the build did not produce $bench"

# --- Temporary data; always unmounted and removed, also on failure or ^C.
work=$(mktemp -d "$BENCH_TMP/realize-bench.XXXXXX")
scan_dir="$work/scan"
cleanup() {
    local rc=$?
    if mountpoint -q "$scan_dir/view" 2>/dev/null; then
        umount "$scan_dir/view" 2>/dev/null || umount -l "$scan_dir/view" || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

results="$here/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
log="$results/log.txt"
table="$results/table.md"

run() {
    echo "== realize-bench $*" >&2
    "$bench" "$@" | tee -a "$log"
}
# get KEY [last|max|median]: a figure of the log; of several processes, the last, highest or median.
get() {
    local value
    value=$(awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' "$log" | {
        case "${2:-last}" in
            last) tail -n 1 ;;
            max) sort -g | tail -n 1 ;;
            median) sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }' ;;
        esac
    })
    [ -n "$value" ] || die "no result $1 in $log"
    echo "$value"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$here/.." status --porcelain -- src 2>/dev/null | grep -q . && echo ' (src modified)')"
    echo "kernel: $(uname -r); cores: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/\s\+/ /g')"
    echo "openssl: $(openssl version); find: $(find --version | head -1)"
    echo "data: $work ($fstype); runs: $RUNS; memory runs: $MEMORY_RUNS; files: $FILES; hash file: $HASH_MIB MiB; create: $CREATE"
    echo "load average at start: $(loadavg)"
} | tee "$log" >&2
started=$(date +%s)

# --- 1. Hashing: ContentHasher vs openssl dgst -sha256, warm cache, interleaved.
echo "== writing a $HASH_MIB MiB file of random bytes" >&2
head -c "${HASH_MIB}M" /dev/urandom >"$work/hash.bin"
sync
run hash "$work/hash.bin" --runs "$RUNS"
rm -f "$work/hash.bin"

# --- 2 and 3. Scans of $FILES files: first scan and rescans, each memory figure in its own process.
setup_args=()
[ "$CREATE" = view ] && setup_args+=(--via-view)
run scan-setup "$scan_dir" "$FILES" "${setup_args[@]}"
for _ in $(seq "$MEMORY_RUNS"); do
    run memory-first "$scan_dir" --reset
done
for _ in $(seq "$MEMORY_RUNS"); do
    run memory-rescan "$scan_dir"
done
run scan "$scan_dir" --runs "$RUNS"
run unmount "$scan_dir"

echo "load average at end: $(loadavg)" | tee -a "$log" >&2
elapsed=$(($(date +%s) - started))

# --- The table. Every figure is read first, so a missing one stops here (set -e).
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; }
met() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "yes" : "**no**" }'; }
secs() { fmt "$(get "$1")" '%.3f'; }
count=$(get rescan_files)
hash_s=$(secs hash_realize_s); hash_min=$(secs hash_realize_s_min); hash_max=$(secs hash_realize_s_max)
hash_mbps=$(fmt "$(get hash_realize_mbps)" '%.0f')
ossl_s=$(secs hash_openssl_s); ossl_min=$(secs hash_openssl_s_min); ossl_max=$(secs hash_openssl_s_max)
ossl_mbps=$(fmt "$(get hash_openssl_mbps)" '%.0f')
hash_speedup=$(get hash_speedup)
hash_best=$(fmt "$(get hash_speedup_best)" '%.2f')
hash_differs=$(get hash_differs)
scan_s=$(secs rescan_s); scan_min=$(secs rescan_s_min); scan_max=$(secs rescan_s_max)
find_s=$(secs find_s); find_min=$(secs find_s_min); find_max=$(secs find_s_max)
rescan_ratio=$(get rescan_ratio)
rescan_best=$(fmt "$(get rescan_ratio_best)" '%.2f')
first_peak=$(get first_scan_vmhwm_mb max)
rescan_peak=$(get rescan_vmhwm_mb max)
first_peaks=$(awk '$1 == "RESULT" && $2 == "first_scan_vmhwm_mb" { printf "%s%.0f", sep, $3; sep = ", " }' "$log")
rescan_peaks=$(awk '$1 == "RESULT" && $2 == "rescan_vmhwm_mb" { printf "%s%.0f", sep, $3; sep = ", " }' "$log")
first_s=$(fmt "$(get first_scan_s median)" '%.2f')
fresh_s=$(fmt "$(get rescan_fresh_process_s median)" '%.3f')
if [ "$hash_differs" = 1 ]; then
    sanity="differs from the plain SHA-256, as it should"; sanity_met=yes
else
    sanity="**equals the plain SHA-256**"; sanity_met="**no**"
fi
hash_cores=$(fmt "$(get hash_realize_cores)" '%.2f')
other_cores=$(fmt "$(get hash_other_cores)" '%.2f')
start_load=$(awk -F': ' '/^load average at start/ { print $2 }' "$log")
commit=$(awk -F': ' '/^commit: / { print $2; exit }' "$log")
if [ "$CREATE" = view ]; then created="through the merged view"; else created="in real/ before the mount"; fi

{
    echo "| measure | Realize | baseline | ratio | target | met? |"
    echo "|---|---|---|---|---|---|"
    echo "| hash of a $HASH_MIB MiB file in page cache (median of $RUNS, min–max) | $hash_s s = $hash_mbps MB/s ($hash_min–$hash_max) | openssl dgst -sha256: $ossl_s s = $ossl_mbps MB/s ($ossl_min–$ossl_max) | $(fmt "$hash_speedup" '%.2f')x as fast (fastest runs: ${hash_best}x) | ≥ 1.7x as fast | $(met "$hash_speedup" '>=' 1.7) |"
    echo "| rescan of $count unchanged files, timed in-process (median of $RUNS, min–max) | $scan_s s ($scan_min–$scan_max) | find real/ -printf '%s %T@\\n': $find_s s ($find_min–$find_max) | $(fmt "$rescan_ratio" '%.2f')x the time (fastest runs: ${rescan_best}x) | ≤ 3x the time | $(met "$rescan_ratio" '<=' 3) |"
    echo "| peak RSS (VmHWM) of a process doing only the first scan of $count new files (highest of $MEMORY_RUNS processes) | $(fmt "$first_peak" '%.1f') MB (all: $first_peaks) | – | – | ≤ 150 MB | $(met "$first_peak" '<=' 150) |"
    echo "| peak RSS (VmHWM) of a process doing only a rescan of $count unchanged files (highest of $MEMORY_RUNS processes) | $(fmt "$rescan_peak" '%.1f') MB (all: $rescan_peaks) | – | – | ≤ 150 MB | $(met "$rescan_peak" '<=' 150) |"
    echo "| first scan of $count new files (hashes every file; fresh process, median of $MEMORY_RUNS) | $first_s s | – | – | none (information) | – |"
    echo "| rescan of $count unchanged files in a fresh process (JIT cold; median of $MEMORY_RUNS) | $fresh_s s | – | – | none (information) | – |"
    echo "| blob of the hashed file | $sanity | – | – | a hash of block hashes | $sanity_met |"
    echo
    [ "$RUNS" -ge 5 ] || echo "**RUNS=$RUNS: fewer than the 5 runs the targets ask for; not a valid measurement.**"
    echo "Ratios are of the medians (the targets); \"fastest runs\" compares the two fastest runs, which other load on the machine disturbs less."
    echo "While ContentHasher ran (medians), it kept $hash_cores of the $(nproc) cores busy and other processes $other_cores: more than about 0.1 means the hash figures are disturbed."
    echo "MB = 10^6 bytes. Commit $commit; $(nproc) cores, kernel $(uname -r), data on $fstype, files created $created. Load average $start_load at start, $(loadavg) at end; $elapsed s in all."
} >"$table"

echo >&2
echo "results: $results" >&2
cat "$table"
