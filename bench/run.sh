#!/usr/bin/env bash
# Runs the benchmarks described in bench/README.md and prints a Markdown table of the
# results. Needs root (the scan and daemon benchmarks mount an overlay). Takes about 4-6 minutes.
#
# Settings (environment):
#   ONLY=hash,scan,daemon,peers   the parts to run (comma-separated), e.g. ONLY=peers;
#                   ONLY=million runs the million-file scans (not in the default set: about 6 minutes);
#                   ONLY=unreal the Unreal's (two daemons, B's merged view over the Unreal; not in
#                   the default set: about 15 minutes; it drops the page cache for the cold reads)
#   UNREAL_MIB=1024 size of the Unreal's big files, MiB
#   FIRST_RUNS=3    first reads of an uncached big file (each a new file of UNREAL_MIB on A)
#   COLD_RUNS=3     cold reads (caches dropped) of the cached big file, and of its blob file
#   BURST=1000      new 4 KiB files of the Unreal's burst (and of Syncthing's)
#   MILLION=1000000 files of the million-file scans (1000 to a directory, in a plain-directory arena)
#   NOTIFICATIONS=1000000  added notifications of the peers throughput benchmark
#   PEER_RUNS=3     fresh receivers of that history (each a full run; medians)
#   RUNS=7          measured runs of each timing (medians; at least 5 for the targets)
#   FILES=100000    files of the scan benchmarks, and of the daemon's throughput and idle benchmarks
#   LATENCY_RUNS=21 files of each daemon latency (one at a time; medians)
#   IDLE_S=30       seconds over which the idle daemon's CPU is measured
#   MEMORY_RUNS=3   processes of each memory benchmark (the table gives the highest peak)
#   HASH_MIB=1024   size of the hashed file, MiB
#   BENCH_TMP=/var/tmp   where the temporary data goes: must be a disk (ext4, xfs, btrfs), not tmpfs
#   CREATE=view     how scan-setup creates the files: "view" (through the mounted merged
#                   view, as a user would) or "real" (straight into the store's real/ before
#                   the mount: about 10 s faster, but the new directories then lack the
#                   trusted.overlay.opaque=y that the overlay gives them)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ONLY=${ONLY:-hash,scan,daemon,peers}
NOTIFICATIONS=${NOTIFICATIONS:-1000000}
PEER_RUNS=${PEER_RUNS:-3}
RUNS=${RUNS:-7}
FILES=${FILES:-100000}
MILLION=${MILLION:-1000000}
LATENCY_RUNS=${LATENCY_RUNS:-21}
IDLE_S=${IDLE_S:-30}
MEMORY_RUNS=${MEMORY_RUNS:-3}
HASH_MIB=${HASH_MIB:-1024}
UNREAL_MIB=${UNREAL_MIB:-1024}
FIRST_RUNS=${FIRST_RUNS:-3}
COLD_RUNS=${COLD_RUNS:-3}
BURST=${BURST:-1000}
BENCH_TMP=${BENCH_TMP:-/var/tmp}
CREATE=${CREATE:-view}

die() { echo "run.sh: $*" >&2; exit 1; }
# part NAME: whether ONLY asks for that part.
part() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

[ "$(id -u)" -eq 0 ] || die "run as root: the scan and daemon benchmarks mount an overlay"
for p in ${ONLY//,/ }; do
    case "$p" in hash | scan | million | daemon | peers | unreal) ;; *) die "ONLY: unknown part '$p' (hash, scan, million, daemon, peers, unreal)" ;; esac
done
for tool in dotnet openssl find findmnt awk mountpoint umount; do
    command -v "$tool" >/dev/null || die "$tool is needed (Debian: ./setup.sh installs openssl and findutils)"
done
case "$CREATE" in real | view) ;; *) die "CREATE must be 'real' or 'view'" ;; esac
[ "$RUNS" -ge 1 ] 2>/dev/null || die "RUNS must be a positive number"
[ "$MEMORY_RUNS" -ge 1 ] 2>/dev/null || die "MEMORY_RUNS must be a positive number"
[ "$LATENCY_RUNS" -ge 1 ] 2>/dev/null || die "LATENCY_RUNS must be a positive number"
[ "$NOTIFICATIONS" -ge 1 ] 2>/dev/null || die "NOTIFICATIONS must be a positive number"
[ "$PEER_RUNS" -ge 1 ] 2>/dev/null || die "PEER_RUNS must be a positive number"
[ "$IDLE_S" -ge 1 ] 2>/dev/null || die "IDLE_S must be a positive number"
[ "$MILLION" -ge 1 ] 2>/dev/null || die "MILLION must be a positive number"
for v in UNREAL_MIB FIRST_RUNS COLD_RUNS BURST; do
    [ "${!v}" -ge 1 ] 2>/dev/null || die "$v must be a positive number"
done
[ -d "$BENCH_TMP" ] || die "BENCH_TMP=$BENCH_TMP does not exist"
fstype=$(findmnt -n -o FSTYPE -T "$BENCH_TMP" 2>/dev/null || stat -f -c %T "$BENCH_TMP")
case "$fstype" in
    tmpfs | ramfs | overlay | overlayfs | nfs*) die "BENCH_TMP=$BENCH_TMP is on $fstype: use a directory on a disk (ext4, xfs, btrfs)" ;;
esac
stale=$(findmnt -rn -t overlay -o TARGET 2>/dev/null | grep '/realize-bench\.' || true)
[ -z "$stale" ] || echo "run.sh: warning: overlays of an earlier run are still mounted (another run, or one killed): $stale" >&2
need_mib=2048
if part hash; then need_mib=$((need_mib + HASH_MIB)); fi
# Each small file takes a 4 KiB block.
if part million; then need_mib=$((need_mib + MILLION * 5 / 1024)); fi
# A's big file and one more at a time; B caches every one it reads.
if part unreal; then need_mib=$((need_mib + (FIRST_RUNS + 2) * UNREAL_MIB + FILES * 8 / 1024)); fi
avail_mib=$(($(df -Pk "$BENCH_TMP" | awk 'NR == 2 { print $4 }') / 1024))
[ "$avail_mib" -ge "$need_mib" ] || die "BENCH_TMP=$BENCH_TMP has $avail_mib MiB free, $need_mib are needed"

# --- Build (Release, into bench/artifacts: the src projects' own bin/ and obj/ are left alone).
# Realize.Bench references src/Realize.Cli, so this builds the realize command too.
echo "== building bench/Realize.Bench and src/Realize.Cli (Release)" >&2
dotnet build "$here/Realize.Bench/Realize.Bench.csproj" -c Release --artifacts-path "$here/artifacts" \
    -nologo -clp:ErrorsOnly -v:quiet >&2
bench="$here/artifacts/bin/Realize.Bench/release/realize-bench"
cli="$here/artifacts/bin/Realize.Cli/release/realize.dll"
[ -x "$bench" ] || die "the build did not produce $bench"
[ -f "$cli" ] || die "the build did not produce $cli"

# --- Temporary data; always unmounted and removed, also on failure or ^C.
work=$(mktemp -d "$BENCH_TMP/realize-bench.XXXXXX")
scan_dir="$work/scan"
million_dir="$work/million"
daemon_dir="$work/daemon"
unreal_dir="$work/unreal"
results=""
cleanup() {
    local rc=$? pidfile pid log target
    # A daemon left by a realize-bench that died: stop it (SIGTERM: it unmounts its view).
    for pidfile in "$daemon_dir"/*/daemon.pid "$work"/peers/*/daemon.pid "$unreal_dir"/*/daemon.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if grep -qa realize.dll "/proc/$pid/cmdline" 2>/dev/null && kill -TERM "$pid" 2>/dev/null; then
            for _ in $(seq 300); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for log in "$daemon_dir"/*/daemon.log "$work"/peers/*/daemon.log; do
        if [ -f "$log" ] && [ -n "$results" ]; then
            cp "$log" "$results/daemon-$(basename "$(dirname "$log")").log" || true
        fi
    done
    for log in "$unreal_dir"/*/daemon.log; do
        if [ -f "$log" ] && [ -n "$results" ]; then
            cp "$log" "$results/daemon-unreal-$(basename "$(dirname "$log")").log" || true
        fi
    done
    # Every mount below $work, deepest first.
    { findmnt -rn -o TARGET || true; } | awk -v w="$work/" 'index($0, w) == 1' | sort -r | while read -r target; do
        umount "$target" 2>/dev/null || umount -l "$target" || true
    done
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
# run_as PREFIX MODE ARGS: as run, each result's key prefixed (the million-file rows reuse the scan modes).
run_as() {
    local prefix=$1
    shift
    echo "== realize-bench $*" >&2
    "$bench" "$@" | sed "s/^RESULT /RESULT $prefix/" | tee -a "$log"
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
    echo "data: $work ($fstype); parts: $ONLY; runs: $RUNS; memory runs: $MEMORY_RUNS; files: $FILES; million: $MILLION; hash file: $HASH_MIB MiB; create: $CREATE"
    echo "unreal: big files $UNREAL_MIB MiB, first reads $FIRST_RUNS, cold reads $COLD_RUNS, burst $BURST"
    echo "daemon: latency runs: $LATENCY_RUNS; idle: $IDLE_S s; inotify max_user_watches $(cat /proc/sys/fs/inotify/max_user_watches), max_queued_events $(cat /proc/sys/fs/inotify/max_queued_events)"
    echo "load average at start: $(loadavg)"
} | tee "$log" >&2
started=$(date +%s)

# --- 1. Hashing: ContentHasher vs openssl dgst -sha256, warm cache, interleaved.
if part hash; then
    echo "== writing a $HASH_MIB MiB file of random bytes" >&2
    head -c "${HASH_MIB}M" /dev/urandom >"$work/hash.bin"
    sync
    run hash "$work/hash.bin" --runs "$RUNS"
    rm -f "$work/hash.bin"
fi

# --- 2 and 3. Scans of $FILES files: first scan and rescans, each memory figure in its own process.
if part scan; then
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
    rm -rf "$scan_dir"
fi

# --- 3b. The million-file scans: $MILLION files, 1000 to a directory, in one plain-directory
# arena; each memory figure in a fresh process, each right after a find (this VM pages out data
# left idle for about a minute), then rescans interleaved with find. Each figure's load average too.
if part million; then
    run_as million_ scan-setup "$million_dir" "$MILLION" --plain --per-dir 1000
    for _ in $(seq "$MEMORY_RUNS"); do
        find "$million_dir/files" -printf '%s %T@\n' >/dev/null
        echo "RESULT million_first_load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$log"
        run_as million_ memory-first "$million_dir" --reset
    done
    for _ in $(seq "$MEMORY_RUNS"); do
        find "$million_dir/files" -printf '%s %T@\n' >/dev/null
        echo "RESULT million_rescan_load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$log"
        run_as million_ memory-rescan "$million_dir"
    done
    echo "RESULT million_scan_load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$log"
    run_as million_ scan "$million_dir" --runs "$RUNS"
    echo "RESULT million_scan_load_end $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$log"
    # The daemon on that tree, indexed: its catch-up, idle memory, and close() to index.db in it.
    find "$million_dir/files" -printf '%s %T@\n' >/dev/null
    echo "RESULT million_daemon_load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$log"
    run_as million_ daemon-million "$million_dir" --idle-s "$IDLE_S" --latency-runs "$LATENCY_RUNS" --cli "$cli"
    rm -rf "$million_dir"
fi

# --- 4 to 6. The daemon, 'dotnet realize.dll up' as a child process: latencies in a store of
# a few files, at two settle delays; then, in a store of its own, $FILES files created while
# it runs, the rescan fallback, the idle daemon watching them, and the plain-directory arena.
if part daemon; then
    run daemon-setup "$daemon_dir/latency" --cli "$cli"
    for settle in 200 0; do
        run daemon-latency "$daemon_dir/latency" --settle-ms "$settle" --runs "$LATENCY_RUNS" --cli "$cli"
    done
    run daemon-setup "$daemon_dir/load" --cli "$cli"
    run daemon-load "$daemon_dir/load" "$FILES" --runs "$RUNS" --idle-s "$IDLE_S" --latency-runs "$LATENCY_RUNS" --cli "$cli"
fi

echo "load average at end: $(loadavg)" | tee -a "$log" >&2
# --- 7 and 8. Peers: 'realize up' on a listening store and on fresh blind ones, over TLS on
# loopback: the whole history, then the latency of new files; and Syncthing beside it.
if part peers; then
    run peers-setup "$work/peers" "$NOTIFICATIONS" --runs "$PEER_RUNS"
    run peers "$work/peers" --runs "$PEER_RUNS" --latency-runs "$LATENCY_RUNS" --cli "$cli"
    echo "== bench/syncthing.sh" >&2
    BENCH_TMP="$BENCH_TMP" LATENCY_RUNS="$LATENCY_RUNS" "$here/syncthing.sh" | tee -a "$log"
fi
# --- The Unreal: 'realize up' on a listening store A (a plain-directory arena holding the data)
# and a blind one B (its merged view over the Unreal); then Syncthing's latency and burst beside it.
if part unreal; then
    run unreal-setup "$unreal_dir" --files "$FILES" --mib "$UNREAL_MIB" --cli "$cli"
    run unreal "$unreal_dir" --runs "$RUNS" --first-runs "$FIRST_RUNS" --cold-runs "$COLD_RUNS" --latency-runs "$LATENCY_RUNS" \
        --burst "$BURST" --burst-runs 3 --rename-runs "$RUNS" --cli "$cli"
    rm -rf "$unreal_dir"
    echo "== bench/syncthing.sh (latency and burst)" >&2
    BENCH_TMP="$BENCH_TMP" LATENCY_RUNS="$LATENCY_RUNS" BURST_FILES="$BURST" "$here/syncthing.sh" | sed 's/^RESULT syncthing_/RESULT unreal_syncthing_/' | tee -a "$log"
fi
elapsed=$(($(date +%s) - started))

# --- The table. Every figure is read first, so a missing one stops here (set -e).
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; }
met() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? v >= t : (op == "<") ? v < t : v <= t; print ok ? "yes" : "**no**" }'; }
secs() { fmt "$(get "$1")" '%.3f'; }
ms() { awk -v v="$(get "$1")" 'BEGIN { printf "%.1f", v * 1000 }'; }
# need KEY...: stops here when a figure is missing (a $(get) inside a row would not).
need() {
    local k
    for k in "$@"; do get "$k" >/dev/null; done
}
start_load=$(awk -F': ' '/^load average at start/ { print $2 }' "$log")
commit=$(awk -F': ' '/^commit: / { print $2; exit }' "$log")
if part hash; then
    hash_s=$(secs hash_realize_s); hash_min=$(secs hash_realize_s_min); hash_max=$(secs hash_realize_s_max)
    hash_mbps=$(fmt "$(get hash_realize_mbps)" '%.0f')
    ossl_s=$(secs hash_openssl_s); ossl_min=$(secs hash_openssl_s_min); ossl_max=$(secs hash_openssl_s_max)
    ossl_mbps=$(fmt "$(get hash_openssl_mbps)" '%.0f')
    hash_speedup=$(get hash_speedup)
    hash_best=$(fmt "$(get hash_speedup_best)" '%.2f')
    hash_differs=$(get hash_differs)
    if [ "$hash_differs" = 1 ]; then
        sanity="differs from the plain SHA-256, as it should"; sanity_met=yes
    else
        sanity="**equals the plain SHA-256**"; sanity_met="**no**"
    fi
    hash_cores=$(fmt "$(get hash_realize_cores)" '%.2f')
    other_cores=$(fmt "$(get hash_other_cores)" '%.2f')
fi
if part scan; then
    count=$(get rescan_files)
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
    if [ "$CREATE" = view ]; then created="through the merged view"; else created="in real/ before the mount"; fi
fi
if part million; then
    need million_rescan_files million_rescan_s{,_min,_max} million_find_s{,_min,_max} million_rescan_ratio million_rescan_ratio_best \
        million_first_scan_vmhwm_mb million_rescan_vmhwm_mb million_first_scan_s million_rescan_fresh_process_s million_scan_load million_scan_load_end
    mcount=$(get million_rescan_files)
    m_first_peaks=$(awk '$1 == "RESULT" && $2 == "million_first_scan_vmhwm_mb" { printf "%s%.0f", sep, $3; sep = ", " }' "$log")
    m_rescan_peaks=$(awk '$1 == "RESULT" && $2 == "million_rescan_vmhwm_mb" { printf "%s%.0f", sep, $3; sep = ", " }' "$log")
    m_first_loads=$(awk '$1 == "RESULT" && $2 == "million_first_load" { printf "%s%s", sep, $3; sep = ", " }' "$log")
    m_rescan_loads=$(awk '$1 == "RESULT" && $2 == "million_rescan_load" { printf "%s%s", sep, $3; sep = ", " }' "$log")
    million_rows=()
    million_rows+=("| rescan of $mcount unchanged files in one plain-directory arena (1000 directories of 1000), timed in-process (median of $RUNS, min–max; load average $(get million_scan_load) to $(get million_scan_load_end)) | $(secs million_rescan_s) s ($(secs million_rescan_s_min)–$(secs million_rescan_s_max)) | find DIR -printf '%s %T@\\n': $(secs million_find_s) s ($(secs million_find_s_min)–$(secs million_find_s_max)) | $(fmt "$(get million_rescan_ratio)" '%.2f')x the time (fastest runs: $(fmt "$(get million_rescan_ratio_best)" '%.2f')x) | ≤ 2x the time | $(met "$(get million_rescan_ratio)" '<=' 2) |")
    million_rows+=("| peak RSS (VmHWM) of a process doing only the first scan of those $mcount files (highest of $MEMORY_RUNS processes; load average $m_first_loads) | $(fmt "$(get million_first_scan_vmhwm_mb max)" '%.1f') MB (all: $m_first_peaks; $(fmt "$(get million_first_scan_s median)" '%.1f') s) | – | – | ≤ 250 MB | $(met "$(get million_first_scan_vmhwm_mb max)" '<=' 250) |")
    million_rows+=("| peak RSS (VmHWM) of a process doing only a rescan of those $mcount files (highest of $MEMORY_RUNS processes; load average $m_rescan_loads) | $(fmt "$(get million_rescan_vmhwm_mb max)" '%.1f') MB (all: $m_rescan_peaks; $(fmt "$(get million_rescan_fresh_process_s median)" '%.2f') s) | – | – | ≤ 250 MB | $(met "$(get million_rescan_vmhwm_mb max)" '<=' 250) |")
    need million_daemon_catchup_vmhwm_mb million_daemon_catchup_s million_daemon_idle_vmrss_mb million_daemon_close_s{,_min,_max} million_daemon_load
    million_rows+=("| 'realize up' catching up on those $mcount files, indexed and unchanged: peak RSS (VmHWM) once it answers (load average $(get million_daemon_load)) | $(fmt "$(get million_daemon_catchup_vmhwm_mb)" '%.1f') MB (answering after $(fmt "$(get million_daemon_catchup_s)" '%.1f') s) | – | – | ≤ 250 MB | $(met "$(get million_daemon_catchup_vmhwm_mb)" '<=' 250) |")
    million_rows+=("| RSS (VmRSS) of that daemon idle for $IDLE_S s, watching them | $(fmt "$(get million_daemon_idle_vmrss_mb)" '%.1f') MB | – | – | ≤ 100 MB | $(met "$(get million_daemon_idle_vmrss_mb)" '<=' 100) |")
    million_rows+=("| close() of a new small file in that tree → its notification in index.db, default --settle-ms (median of $LATENCY_RUNS, min–max) | $(ms million_daemon_close_s) ms ($(ms million_daemon_close_s_min)–$(ms million_daemon_close_s_max)) | – | – | ≤ 30 ms | $(met "$(get million_daemon_close_s)" '<=' 0.030) |")
fi
if part daemon; then
    daemon_rows=()
    for settle in 200 0; do
        k="settle$settle"
        need "latency_close_${k}_s"{,_min,_max} "latency_rename_${k}_s"{,_min,_max}
        over=$(get "latency_rename_${k}_over_settle_s")
        daemon_rows+=("| close() of a new small file in the merged view → its notification in index.db, --settle-ms $settle (median of $LATENCY_RUNS files one at a time, min–max) | $(ms "latency_close_${k}_s") ms ($(ms "latency_close_${k}_s_min")–$(ms "latency_close_${k}_s_max")) | – | – | ≤ 250 ms | $(met "$(get "latency_close_${k}_s")" '<=' 0.250) |")
        daemon_rows+=("| rename() of a file into place in the merged view → its notification, --settle-ms $settle (median of $LATENCY_RUNS, min–max) | $(ms "latency_rename_${k}_s") ms ($(ms "latency_rename_${k}_s_min")–$(ms "latency_rename_${k}_s_max")) = the delay + $(ms "latency_rename_${k}_over_settle_s") ms | – | – | ≤ the delay + 30 ms | $(met "$over" '<=' 0.030) |")
    done
    # throughput_row KEY WHERE: the row of one creation benchmark.
    throughput_row() {
        local n rate ok
        n=$(get "throughput_$1_files")
        if [ "$(get "throughput_$1_complete")" = 1 ]; then
            rate=$(get "throughput_$1_reported_rate")
            ok=$(met "$rate" '>=' 20000)
            [ "$(get "throughput_$1_overflows")" = 0 ] || ok="**no**"
            echo "| $n new files created $2 as fast as one process can, the daemon up: from the first created to all recorded | $(fmt "$rate" '%.0f') files/s ($(fmt "$(get "throughput_$1_reported_s")" '%.2f') s; created at $(fmt "$(get "throughput_$1_create_rate")" '%.0f') files/s, all recorded $(fmt "$(get "throughput_$1_lag_s")" '%.2f') s after the last); $(get "throughput_$1_overflows") overflow rescans | – | – | ≥ 20000 files/s, no overflow rescan | $ok |"
        else
            echo "| $n new files created $2 as fast as one process can, the daemon up: from the first created to all recorded | **only $(get "throughput_$1_recorded_files") recorded**, nothing new for 60 s; $(get "throughput_$1_overflows") overflow rescans | – | – | ≥ 20000 files/s, no overflow rescan | **no** |"
        fi
    }
    need_throughput() {
        need "throughput_$1_"{files,complete,overflows,create_rate,recorded_files}
        if [ "$(get "throughput_$1_complete")" = 1 ]; then need "throughput_$1_"{reported_rate,reported_s,lag_s}; fi
    }
    need_throughput view
    need throughput_plain_watched
    daemon_rows+=("$(throughput_row view "through the merged view")")
    if [ "$(get throughput_plain_watched)" = 1 ]; then
        need_throughput plain
        daemon_rows+=("$(throughput_row plain "in a plain-directory arena")")
    else
        daemon_rows+=("| $FILES new files created in a plain-directory arena, the daemon up | not measured: this daemon does not watch plain-directory arenas | – | – | ≥ 20000 files/s, no overflow rescan | **no** |")
    fi
    need rescan_fallback_{files,s,s_min,s_max,daemon_s} idle_{files,watches,s,cpu_percent,vmrss_mb,vmhwm_mb,rssanon_mb,rssfile_mb} latency_close_loaded_{files,s,s_min,s_max}
    idle_files=$(get idle_files)
    daemon_rows+=("| rescan fallback: 'realize scan' asking the running daemon to rescan $(get rescan_fallback_files) unchanged files (the whole command, median of $RUNS, min–max) | $(secs rescan_fallback_s) s ($(secs rescan_fallback_s_min)–$(secs rescan_fallback_s_max); the scan in the daemon: $(fmt "$(get rescan_fallback_daemon_s)" '%.2f') s) | – | – | none (information) | – |")
    daemon_rows+=("| CPU of the idle daemon watching $idle_files files ($(get idle_watches) directories), over $(fmt "$(get idle_s)" '%.0f') s | $(fmt "$(get idle_cpu_percent)" '%.2f') % | – | – | < 1 % | $(met "$(get idle_cpu_percent)" '<' 1) |")
    daemon_rows+=("| RSS (VmRSS) of the idle daemon watching $idle_files files | $(fmt "$(get idle_vmrss_mb)" '%.1f') MB (anonymous $(fmt "$(get idle_rssanon_mb)" '%.1f'), mapped files $(fmt "$(get idle_rssfile_mb)" '%.1f'); peak VmHWM since it started: $(fmt "$(get idle_vmhwm_mb)" '%.1f') MB) | – | – | < 100 MB | $(met "$(get idle_vmrss_mb)" '<' 100) |")
    daemon_rows+=("| close() of a new small file → its notification with $(get latency_close_loaded_files) files watched, default --settle-ms (median of $LATENCY_RUNS, min–max) | $(ms latency_close_loaded_s) ms ($(ms latency_close_loaded_s_min)–$(ms latency_close_loaded_s_max)) | – | – | none (information) | – |")
fi

if part peers; then
    need peers_notifications peers_rate{,_min,_max} peers_applied_rate peers_baseline_apply_rate peers_receiver_vmhwm_mb peers_sender_vmhwm_mb \
        peers_latency_s{,_min,_max} syncthing_latency_median_s syncthing_version
    peer_rows=()
    peak=$(awk -v a="$(get peers_receiver_vmhwm_mb)" -v b="$(get peers_sender_vmhwm_mb)" 'BEGIN { print (a > b) ? a : b }')
    peer_rows+=("| $(get peers_notifications) added notifications from a listening peer to a blind one over TLS on loopback, applied and acknowledged: from the first batch applied to the last acknowledgement persisted (median of $PEER_RUNS fresh receivers, min–max) | $(fmt "$(get peers_rate)" '%.0f')/s ($(fmt "$(get peers_rate_min)" '%.0f')–$(fmt "$(get peers_rate_max)" '%.0f'); applied alone: $(fmt "$(get peers_applied_rate)" '%.0f')/s) | the same batches applied to unreal.db in one process, no network: $(fmt "$(get peers_baseline_apply_rate)" '%.0f')/s | $(fmt "$(awk -v a="$(get peers_rate)" -v b="$(get peers_baseline_apply_rate)" 'BEGIN { print a / b }')" '%.2f')x | ≥ 200000/s | $(met "$(get peers_rate)" '>=' 200000) |")
    peer_rows+=("| peak RSS (VmHWM) of each side during it | receiver $(fmt "$(get peers_receiver_vmhwm_mb)" '%.1f') MB, sender $(fmt "$(get peers_sender_vmhwm_mb)" '%.1f') MB | – | – | < 200 MB each | $(met "$peak" '<' 200) |")
    peer_rows+=("| close() of a new small file on one peer → its row in the other's unreal.db, default settings (median of $LATENCY_RUNS files one at a time, min–max) | $(ms peers_latency_s) ms ($(ms peers_latency_s_min)–$(ms peers_latency_s_max)) | Syncthing $(get syncthing_version), two instances on loopback, watcher delay 1 s: $(ms syncthing_latency_median_s) ms until the other has the file | $(fmt "$(awk -v a="$(get syncthing_latency_median_s)" -v b="$(get peers_latency_s)" 'BEGIN { print a / b }')" '%.0f')x as fast | ≤ 300 ms | $(met "$(get peers_latency_s)" '<=' 0.300) |")
fi
if part unreal; then
    need unreal_fresh_pages_{mb_per_s,s_min,s_max} unreal_{first_read_s,first_read_s_min,first_read_s_max,first_read_mb_per_s,first_read_mb,read_rss_peak_mb,b_vmhwm_mb} \
        unreal_{warm,cold}_s{,_min,_max} unreal_{warm,cold}_native_s{,_min,_max} unreal_{warm,cold}_{mb_per_s,native_mb_per_s,ratio} unreal_cached_mb \
        unreal_find_{first_s,files,first_ratio,ratio} unreal_find{,_native}_s{,_min,_max} \
        unreal_new_file{,_looked_up}_s{,_min,_max} unreal_burst_{files,s,s_min,s_max,after_last_s} \
        unreal_rename_s{,_min,_max} unreal_rename_new_{blobs,blocks} unreal_syncthing_{latency_median_s,version,burst_s}
    mbs() { fmt "$(get "$1")" '%.0f'; }
    ratio() { fmt "$(awk -v a="$(get "$1")" -v b="$(get "$2")" 'BEGIN { print a / b }')" "${3:-%.2f}"; }
    gib=$(fmt "$(get unreal_cached_mb)" '%.0f')
    unreal_rows=()
    unreal_rows+=("| sequential read (dd bs=1M) of a cached $gib MB remote file through B's merged view, page cache warm (median of $RUNS, min–max) | $(secs unreal_warm_s) s = $(mbs unreal_warm_mb_per_s) MB/s ($(secs unreal_warm_s_min)–$(secs unreal_warm_s_max)) | dd of its blob file in B's cache: $(secs unreal_warm_native_s) s = $(mbs unreal_warm_native_mb_per_s) MB/s ($(secs unreal_warm_native_s_min)–$(secs unreal_warm_native_s_max)) | $(fmt "$(get unreal_warm_ratio)" '%.2f')x as fast | ≥ 0.9x | $(met "$(get unreal_warm_ratio)" '>=' 0.9) |")
    unreal_rows+=("| the same, cold: caches dropped before each (median of $COLD_RUNS, min–max) | $(secs unreal_cold_s) s = $(mbs unreal_cold_mb_per_s) MB/s ($(secs unreal_cold_s_min)–$(secs unreal_cold_s_max)) | cold dd of the blob file: $(secs unreal_cold_native_s) s = $(mbs unreal_cold_native_mb_per_s) MB/s ($(secs unreal_cold_native_s_min)–$(secs unreal_cold_native_s_max)) | $(fmt "$(get unreal_cold_ratio)" '%.2f')x as fast | none (information) | – |")
    unreal_rows+=("| first read (dd bs=1M) through B's view of an uncached $(fmt "$(get unreal_first_read_mb)" '%.0f') MB remote file, fetched from A over TLS on loopback, every block verified (median of $FIRST_RUNS new files, min–max) | $(mbs unreal_first_read_mb_per_s) MB/s ($(secs unreal_first_read_s) s; $(secs unreal_first_read_s_min)–$(secs unreal_first_read_s_max)) | dd of as many zeros to a new file (new page cache, what B's cache file takes), right before each: $(mbs unreal_fresh_pages_mb_per_s) MB/s ($(secs unreal_fresh_pages_s_min)–$(secs unreal_fresh_pages_s_max) s) | $(ratio unreal_first_read_mb_per_s unreal_fresh_pages_mb_per_s)x | ≥ 500 MB/s | $(met "$(get unreal_first_read_mb_per_s)" '>=' 500) |")
    unreal_rows+=("| peak RSS of B's daemon during the big reads (VmRSS every 10 ms) | $(fmt "$(get unreal_read_rss_peak_mb)" '%.1f') MB (VmHWM over the whole run: $(fmt "$(get unreal_b_vmhwm_mb)" '%.1f') MB) | – | – | ≤ 150 MB | $(met "$(get unreal_read_rss_peak_mb)" '<=' 150) |")
    unreal_rows+=("| find -printf '%s %T@\\n' over $(get unreal_find_files) remote files through B's view, second run (median of $RUNS, min–max) | $(secs unreal_find_s) s ($(secs unreal_find_s_min)–$(secs unreal_find_s_max)) | find on A's directory: $(secs unreal_find_native_s) s ($(secs unreal_find_native_s_min)–$(secs unreal_find_native_s_max)) | $(fmt "$(get unreal_find_ratio)" '%.2f')x the time | ≤ 2x the time | $(met "$(get unreal_find_ratio)" '<=' 2) |")
    unreal_rows+=("| the same, first run (once) | $(secs unreal_find_first_s) s | the same | $(fmt "$(get unreal_find_first_ratio)" '%.2f')x the time | none (information) | – |")
    unreal_rows+=("| a new small file on A (close()) until it reads right through B's view, the name not looked up before (median of $LATENCY_RUNS, min–max) | $(ms unreal_new_file_s) ms ($(ms unreal_new_file_s_min)–$(ms unreal_new_file_s_max)) | Syncthing $(get unreal_syncthing_version), watcher delay 1 s: $(ms unreal_syncthing_latency_median_s) ms until B's folder has it | $(ratio unreal_syncthing_latency_median_s unreal_new_file_s '%.0f')x as fast | ≤ 50 ms | $(met "$(get unreal_new_file_s)" '<=' 0.050) |")
    unreal_rows+=("| the same, B having looked the name up (ENOENT) before it existed (median of $LATENCY_RUNS, min–max) | $(ms unreal_new_file_looked_up_s) ms ($(ms unreal_new_file_looked_up_s_min)–$(ms unreal_new_file_looked_up_s_max)) | the same | $(ratio unreal_syncthing_latency_median_s unreal_new_file_looked_up_s '%.0f')x as fast | ≤ 50 ms | $(met "$(get unreal_new_file_looked_up_s)" '<=' 0.050) |")
    unreal_rows+=("| a burst of $(get unreal_burst_files) new 4 KiB files on A until all read right through B's view, from the first created (median of 3, min–max) | $(secs unreal_burst_s) s ($(secs unreal_burst_s_min)–$(secs unreal_burst_s_max); $(secs unreal_burst_after_last_s) s after the last) | Syncthing: $(secs unreal_syncthing_burst_s) s until B's folder has them all | $(ratio unreal_syncthing_burst_s unreal_burst_s)x as fast | ≤ 1 s | $(met "$(get unreal_burst_s)" '<=' 1) |")
    # rename_row KEY WHAT: the row of one series of directory renames.
    rename_row() {
        local ok=yes
        awk -v v="$(get "$1_s")" 'BEGIN { exit !(v <= 0.1) }' || ok="**no**"
        [ "$(get "$1_new_blocks")" = 0 ] || ok="**no**"
        echo "| a directory of 100 files, cached on B, renamed on A until B's view lists them under the new name and each reads right, $2 (median of $RUNS, min–max) | $(ms "$1_s") ms ($(ms "$1_s_min")–$(ms "$1_s_max")); $(get "$1_new_blobs") blobs, $(get "$1_new_blocks") blocks fetched meanwhile | – | – | ≤ 100 ms, nothing fetched | $ok |"
    }
    need unreal_rename_settle0_s{,_min,_max} unreal_rename_settle0_new_{blobs,blocks}
    unreal_rows+=("$(rename_row unreal_rename "A at its default --settle-ms 200 (a rename is examined once quiet for that long)")")
    unreal_rows+=("$(rename_row unreal_rename_settle0 "A at --settle-ms 0")")
fi

{
    echo "| measure | Realize | baseline | ratio | target | met? |"
    echo "|---|---|---|---|---|---|"
    if part hash; then
        echo "| hash of a $HASH_MIB MiB file in page cache (median of $RUNS, min–max) | $hash_s s = $hash_mbps MB/s ($hash_min–$hash_max) | openssl dgst -sha256: $ossl_s s = $ossl_mbps MB/s ($ossl_min–$ossl_max) | $(fmt "$hash_speedup" '%.2f')x as fast (fastest runs: ${hash_best}x) | ≥ 1.7x as fast | $(met "$hash_speedup" '>=' 1.7) |"
    fi
    if part scan; then
        echo "| rescan of $count unchanged files, timed in-process (median of $RUNS, min–max) | $scan_s s ($scan_min–$scan_max) | find real/ -printf '%s %T@\\n': $find_s s ($find_min–$find_max) | $(fmt "$rescan_ratio" '%.2f')x the time (fastest runs: ${rescan_best}x) | ≤ 3x the time | $(met "$rescan_ratio" '<=' 3) |"
        echo "| peak RSS (VmHWM) of a process doing only the first scan of $count new files (highest of $MEMORY_RUNS processes) | $(fmt "$first_peak" '%.1f') MB (all: $first_peaks) | – | – | ≤ 150 MB | $(met "$first_peak" '<=' 150) |"
        echo "| peak RSS (VmHWM) of a process doing only a rescan of $count unchanged files (highest of $MEMORY_RUNS processes) | $(fmt "$rescan_peak" '%.1f') MB (all: $rescan_peaks) | – | – | ≤ 150 MB | $(met "$rescan_peak" '<=' 150) |"
        echo "| first scan of $count new files (hashes every file; fresh process, median of $MEMORY_RUNS) | $first_s s | – | – | none (information) | – |"
        echo "| rescan of $count unchanged files in a fresh process (JIT cold; median of $MEMORY_RUNS) | $fresh_s s | – | – | none (information) | – |"
    fi
    if part million; then
        printf '%s\n' "${million_rows[@]}"
    fi
    if part hash; then
        echo "| blob of the hashed file | $sanity | – | – | a hash of block hashes | $sanity_met |"
    fi
    if part daemon; then
        printf '%s\n' "${daemon_rows[@]}"
    fi
    if part peers; then
        printf '%s\n' "${peer_rows[@]}"
    fi
    if part unreal; then
        printf '%s\n' "${unreal_rows[@]}"
    fi
    echo
    [ "$RUNS" -ge 5 ] || echo "**RUNS=$RUNS: fewer than the 5 runs the targets ask for; not a valid measurement.**"
    if part hash || part scan; then
        echo "Ratios are of the medians (the targets); \"fastest runs\" compares the two fastest runs, which other load on the machine disturbs less."
    fi
    if part hash; then
        echo "While ContentHasher ran (medians), it kept $hash_cores of the $(nproc) cores busy and other processes $other_cores: more than about 0.1 means the hash figures are disturbed."
    fi
    if part daemon; then
        echo "The daemon ran as a child process, 'dotnet realize.dll up'; a notification counts from when a read-only connection to index.db first sees it (polled every 1 ms for the latencies, 10 ms for the rates). Its logs are in the results directory."
    fi
    if part peers; then
        echo "Peers: 'dotnet realize.dll up' on each side as child processes; a row counts once a read-only connection to the receiver's unreal.db sees it (polled every 10 ms for the rate, 1 ms for the latency); the sender persists acknowledgements every 100 ms. Syncthing's figure is bench/syncthing.sh's (it waits for an idle watcher before each file)."
    fi
    if part unreal; then
        echo "The Unreal: 'dotnet realize.dll up' on A (listening, a plain-directory arena holding the data) and B (blind, its merged view over the Unreal), both on this machine; B fetches every block from A over TLS on loopback. Their logs are in the results directory."
    fi
    echo "MB = 10^6 bytes. Commit $commit; $(nproc) cores, kernel $(uname -r), data on $fstype$(if part scan; then echo ", files created $created"; fi). Load average $start_load at start, $(loadavg) at end; $elapsed s in all."
} >"$table"

echo >&2
echo "results: $results" >&2
cat "$table"
