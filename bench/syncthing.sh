#!/usr/bin/env bash
# Measures Syncthing's end-to-end propagation latency between two instances on loopback,
# for comparison with Realize's change latencies (see bench/README.md, "Syncthing").
# Needs root (it installs Debian's syncthing, jq and curl when missing). Takes about a minute.
#
# Two instances A and B, each with its own --home, share one folder (sendreceive, the
# filesystem watcher on with fsWatcherDelayS=1, its minimum; rescanIntervalS=3600). They
# know each other by a static tcp://127.0.0.1:PORT address; global and local discovery,
# relays, NAT, usage and crash reporting and upgrades are off, so nothing leaves loopback.
# Each run writes a new file of a few bytes into A's folder and takes the time right after
# its close(); the latency runs from there to the first time B's copy of the folder has the
# file with its full content (polled about every 2 ms).
#
# Settings (environment):
#   LATENCY_RUNS=11      files, one at a time; the figure is their median
#   BURST_FILES=0        then, when not 0, that many new 4 KiB files written at once: the time
#                        until B has them all ("RESULT syncthing_burst_s S")
#   BENCH_TMP=/var/tmp   where the temporary data goes: must be a disk, not tmpfs
#   ST_PORT_BASE=28384   4 ports from here on 127.0.0.1: GUI/REST of A and B, then the
#                        sync protocol of A and B
#
# Prints "RESULT syncthing_latency_median_s S", "RESULT syncthing_latency_runs_s S,S,..."
# and "RESULT syncthing_version V" on stdout; progress goes to stderr.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME's decimal point
shopt -s extglob

LATENCY_RUNS=${LATENCY_RUNS:-11}
BURST_FILES=${BURST_FILES:-0}
BENCH_TMP=${BENCH_TMP:-/var/tmp}
ST_PORT_BASE=${ST_PORT_BASE:-28384}
CONNECT_TIMEOUT_S=120 # both instances up and connected, the folder in sync
SYNC_TIMEOUT_S=60     # the folder in sync between runs
APPEAR_TIMEOUT_S=60   # a file on A to appear on B
FOLDER_ID=bench
WATCHER_DELAY_S=1 # fsWatcherDelayS
# Before each file, both instances must have had no event for this long (besides being in
# sync): Syncthing's watcher then has had a tick with nothing to do and has stopped its timer,
# so each file meets a watcher at rest, as a lone change does (see bench/README.md).
QUIET_US=$((WATCHER_DELAY_S * 1500000))

me=syncthing.sh
fail_msg=""
# die MESSAGE: fail with one clear line (printed last, by cleanup).
die() {
    fail_msg=$*
    exit 1
}
log() { echo "$me: $*" >&2; }
# ${EPOCHREALTIME/./}: the wall clock in microseconds, without a fork (a $(...) would fork).
# seconds US: microseconds as seconds, 6 decimals at most, trailing zeros dropped.
seconds() {
    local s
    s=$(printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)))
    s=${s%%+(0)}
    echo "${s%.}"
}

work=""
pids=()
cleanup() {
    local rc=$? pid i
    trap - EXIT INT TERM HUP
    # Go on through everything: a failed command, or a stderr whose reader has gone (^C on
    # "... | tee"), must not leave the instances running or the data behind.
    set +e
    trap '' PIPE INT TERM HUP
    # Each instance is a process group of its own (setsid): its monitor process and the
    # syncthing process that the monitor starts.
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for ((i = 0; i < 100; i++)); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ -n "$work" ]; then
        for i in a b; do
            [ -s "$work/$i.log" ] || continue
            echo "--- last lines of instance ${i^^}'s log:" >&2
            tail -n 15 "$work/$i.log" >&2 || true
        done
    fi
    if [ -n "$work" ]; then rm -rf "$work"; fi
    if [ "$rc" -ne 0 ]; then
        echo "$me: FAILED: ${fail_msg:-a command failed (exit $rc)}" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'fail_msg="interrupted"; exit 130' INT TERM HUP
trap 'fail_msg=${fail_msg:-"line $LINENO: \"$BASH_COMMAND\" failed"}' ERR

# --- Checks and packages.
[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian's syncthing when missing)"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 or later (EPOCHREALTIME)"
[[ "$LATENCY_RUNS" =~ ^[1-9][0-9]*$ ]] || die "LATENCY_RUNS must be a positive number"
[[ "$BURST_FILES" =~ ^[0-9]+$ ]] || die "BURST_FILES must be a number"
{ [[ "$ST_PORT_BASE" =~ ^[1-9][0-9]*$ ]] && [ "$ST_PORT_BASE" -le 65532 ]; } || die "ST_PORT_BASE must be a port number"
[ -d "$BENCH_TMP" ] || die "BENCH_TMP=$BENCH_TMP does not exist"
fstype=$(findmnt -n -o FSTYPE -T "$BENCH_TMP" 2>/dev/null || stat -f -c %T "$BENCH_TMP")
fstype=${fstype%%$'\n'*} # findmnt gives a line for each of the mounts stacked there
case "$fstype" in
    tmpfs | ramfs | overlay | overlayfs | nfs*) die "BENCH_TMP=$BENCH_TMP is on $fstype: use a directory on a disk (ext4, xfs, btrfs)" ;;
esac
missing=()
command -v syncthing >/dev/null || missing+=(syncthing)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2 ||
        die "apt-get could not install ${missing[*]}"
fi
for tool in syncthing jq curl; do
    command -v "$tool" >/dev/null || die "$tool is still missing after apt-get install"
done
serve_help=$(syncthing serve --help 2>&1) || true
[[ "$serve_help" == *--no-upgrade* ]] || die "this syncthing ($(syncthing --version 2>&1 | head -n 1)) has no 'serve --no-upgrade': version 1.19 or later is needed"

gui_port=([0]=$ST_PORT_BASE [1]=$((ST_PORT_BASE + 1)))
sync_port=([0]=$((ST_PORT_BASE + 2)) [1]=$((ST_PORT_BASE + 3)))
for port in "${gui_port[@]}" "${sync_port[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "port 127.0.0.1:$port is in use (another run?): set ST_PORT_BASE to 4 free ports"
    fi
done

# --- Temporary data: homes (config, keys, database), folders, logs. Removed on exit.
work=$(mktemp -d "$BENCH_TMP/syncthing-bench.XXXXXX")
home=("$work/a/home" "$work/b/home")
dir=("$work/a/folder" "$work/b/folder")
logs=("$work/a.log" "$work/b.log")
names=(A B)
key=()
id=()
export STNODEFAULTFOLDER=1 STNOUPGRADE=1 STNORESTART=1
for i in 0 1; do
    mkdir -p "${dir[$i]}/.stfolder"
    syncthing generate --home="${home[$i]}" --no-default-folder >>"${logs[$i]}" 2>&1 ||
        die "syncthing generate failed for instance ${names[$i]}"
    id[i]=$(syncthing serve --device-id --home="${home[$i]}" 2>>"${logs[$i]}") ||
        die "syncthing serve --device-id failed for instance ${names[$i]}"
    [[ "${id[$i]}" =~ ^[A-Z0-9]{7}(-[A-Z0-9]{7}){7}$ ]] || die "unexpected device ID '${id[$i]}' of instance ${names[$i]}"
    key[i]=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
done

# write_config I: instance I's config.xml, replacing the generated one (the keys stay).
write_config() {
    local i=$1 o=$((1 - $1))
    cat >"${home[$i]}/config.xml" <<EOF
<configuration version="36">
    <folder id="$FOLDER_ID" label="$FOLDER_ID" path="${dir[$i]}" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="$WATCHER_DELAY_S" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
        <device id="${id[0]}" introducedBy=""></device>
        <device id="${id[1]}" introducedBy=""></device>
    </folder>
    <device id="${id[$i]}" name="${names[$i]}" compression="metadata" introducer="false">
        <address>dynamic</address>
    </device>
    <device id="${id[$o]}" name="${names[$o]}" compression="metadata" introducer="false">
        <address>tcp://127.0.0.1:${sync_port[$o]}</address>
        <autoAcceptFolders>false</autoAcceptFolders>
    </device>
    <gui enabled="true" tls="false" debugging="false">
        <address>127.0.0.1:${gui_port[$i]}</address>
        <apikey>${key[$i]}</apikey>
    </gui>
    <options>
        <listenAddress>tcp://127.0.0.1:${sync_port[$i]}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <announceLANAddresses>false</announceLANAddresses>
        <urAccepted>-1</urAccepted>
        <urSeen>3</urSeen>
        <crashReportingEnabled>false</crashReportingEnabled>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <startBrowser>false</startBrowser>
        <setLowPriority>false</setLowPriority>
    </options>
</configuration>
EOF
}

# api I PATH: GET PATH of instance I's REST API.
api() { curl -fsS -m 5 -H "X-API-Key: ${key[$1]}" "http://127.0.0.1:${gui_port[$1]}$2"; }

# connected: whether each instance sees the other connected.
connected() {
    [ "$(api 0 /rest/system/connections 2>/dev/null | jq -r --arg d "${id[1]}" '.connections[$d].connected // false')" = true ] &&
        [ "$(api 1 /rest/system/connections 2>/dev/null | jq -r --arg d "${id[0]}" '.connections[$d].connected // false')" = true ]
}
# in_sync: whether the folder is idle on both, neither needs anything, and each knows the
# other to be complete.
in_sync() {
    local i o s c
    for i in 0 1; do
        o=$((1 - i))
        s=$(api "$i" "/rest/db/status?folder=$FOLDER_ID" 2>/dev/null) || return 1
        [ "$(jq -r '"\(.state) \(.needTotalItems) \(.pullErrors // 0)"' <<<"$s")" = "idle 0 0" ] || return 1
        c=$(api "$i" "/rest/db/completion?folder=$FOLDER_ID&device=${id[$o]}" 2>/dev/null) || return 1
        [ "$(jq -r '"\(.completion) \(.needItems)"' <<<"$c")" = "100 0" ] || return 1
    done
}
# last_event I: the ID of instance I's latest event (its REST events, of every type but
# the disk ones).
last_event() { api "$1" "/rest/events?since=0&limit=1&timeout=1" | jq -r '.[-1].id // 0'; }
# quiet: whether neither instance has had an event for QUIET_US microseconds, and the folder
# is in sync. Each call polls the events once; the state is kept in quiet_ids and quiet_since.
quiet_ids=""
quiet_since=0
quiet() {
    local ids
    ids="$(last_event 0 2>/dev/null) $(last_event 1 2>/dev/null)" || return 1
    if [ "$ids" != "$quiet_ids" ]; then
        quiet_ids=$ids
        quiet_since=${EPOCHREALTIME/./}
        return 1
    fi
    [ $((${EPOCHREALTIME/./} - quiet_since)) -ge "$QUIET_US" ] && in_sync
}
# wait_for WHAT SECONDS COMMAND...: poll COMMAND about every 50 ms until it succeeds.
wait_for() {
    local what=$1 deadline=$((${EPOCHREALTIME/./} + $2 * 1000000)) pid
    shift 2
    until "$@"; do
        [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null || die "an instance exited while waiting for $what (see its log above)"
        done
        read -r -t 0.05 -u "$sleep_fd" _ || true
    done
}

mkfifo "$work/sleep"
exec {sleep_fd}<>"$work/sleep" # read -t on it: a sleep without a fork

# A first, then B once A answers: started together, each dials the other before the other
# listens, and Syncthing dials again only 5 s later.
api_up() { api "$1" /rest/system/ping >/dev/null 2>&1; }
t_start=${EPOCHREALTIME/./}
for i in 0 1; do
    write_config "$i"
    # setsid: a process group of its own, so that cleanup stops the monitor and its child.
    setsid syncthing serve --home="${home[$i]}" --no-browser --no-restart --no-upgrade --no-default-folder \
        --logflags=7 >>"${logs[$i]}" 2>&1 </dev/null &
    pids+=($!)
    log "started ${names[$i]} (pid $!, REST 127.0.0.1:${gui_port[$i]}, sync 127.0.0.1:${sync_port[$i]}) in $work"
    wait_for "the REST API of ${names[$i]}" $((CONNECT_TIMEOUT_S - (${EPOCHREALTIME/./} - t_start) / 1000000)) api_up "$i" ||
        die "the REST API of ${names[$i]} did not answer within $CONNECT_TIMEOUT_S s"
done
t_api=${EPOCHREALTIME/./}
version=$(api 0 /rest/system/version | jq -r .version)
[ "$(api 0 /rest/system/status | jq -r .myID)" = "${id[0]}" ] || die "instance A's REST API gives another device ID"
[ "$(api 1 /rest/system/status | jq -r .myID)" = "${id[1]}" ] || die "instance B's REST API gives another device ID"
wait_for "the connection" $((CONNECT_TIMEOUT_S - (${EPOCHREALTIME/./} - t_start) / 1000000)) connected ||
    die "the instances did not connect within $CONNECT_TIMEOUT_S s"
t_conn=${EPOCHREALTIME/./}
wait_for "the folder" $((CONNECT_TIMEOUT_S - (${EPOCHREALTIME/./} - t_start) / 1000000)) in_sync ||
    die "the folder was not idle and in sync on both within $CONNECT_TIMEOUT_S s of the start"
t_sync=${EPOCHREALTIME/./}
log "syncthing $version: both REST APIs up after $(seconds $((t_api - t_start))) s, connected after $(seconds $((t_conn - t_start))) s, folder in sync after $(seconds $((t_sync - t_start))) s"

# --- The runs, one file at a time.
lat=()
for ((run = 1; run <= LATENCY_RUNS; run++)); do
    quiet_ids=""
    wait_for "quiet" "$SYNC_TIMEOUT_S" quiet ||
        die "run $run: the folder was not in sync on both, with no event for $(seconds "$QUIET_US") s, within $SYNC_TIMEOUT_S s"
    name="latency-$run.txt"
    content="run $run $EPOCHREALTIME"
    src="${dir[0]}/$name" dst="${dir[1]}/$name"
    printf '%s\n' "$content" >"$src"
    t0=${EPOCHREALTIME/./} # right after the close() of the redirection
    deadline=$((t0 + APPEAR_TIMEOUT_S * 1000000))
    while :; do
        if [ -f "$dst" ]; then
            got=""
            IFS= read -r -d '' got <"$dst" || true
            if [ "$got" = "$content"$'\n' ]; then
                t1=${EPOCHREALTIME/./}
                break
            fi
        fi
        [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || die "run $run: $name did not appear on B with its content within $APPEAR_TIMEOUT_S s"
        read -r -t 0.002 -u "$sleep_fd" _ || true
    done
    lat+=($((t1 - t0)))
    log "run $run/$LATENCY_RUNS: $(seconds "${lat[-1]}") s"
done
wait_for "the folder" "$SYNC_TIMEOUT_S" in_sync || die "the folder was not in sync on both after the last run"

# --- A burst: BURST_FILES new files of 4 KiB written into A's folder one after the other; the
# time from just before the first to when B's folder has them all (Syncthing writes a temporary
# file and renames it into place, so a name there has its full content; checked at the end).
if [ "$BURST_FILES" -gt 0 ]; then
    quiet_ids=""
    wait_for "quiet" "$SYNC_TIMEOUT_S" quiet ||
        die "burst: the folder was not in sync on both, with no event for $(seconds "$QUIET_US") s, within $SYNC_TIMEOUT_S s"
    block=""
    while [ "${#block}" -lt 4096 ]; do block+="0123456789abcdef"; done
    t0=${EPOCHREALTIME/./}
    for ((i = 0; i < BURST_FILES; i++)); do
        line="burst file $i "
        printf '%s' "$line${block:${#line}}" >"${dir[0]}/burst-$i.txt"
    done
    t_created=${EPOCHREALTIME/./}
    deadline=$((t0 + APPEAR_TIMEOUT_S * 1000000))
    shopt -s nullglob
    while :; do
        got=("${dir[1]}"/burst-*.txt)
        [ "${#got[@]}" -lt "$BURST_FILES" ] || break
        [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || die "burst: only ${#got[@]} of $BURST_FILES files on B within $APPEAR_TIMEOUT_S s"
        read -r -t 0.005 -u "$sleep_fd" _ || true
    done
    t1=${EPOCHREALTIME/./}
    shopt -u nullglob
    bad=$(find "${dir[1]}" -maxdepth 1 -name 'burst-*.txt' ! -size 4096c | wc -l)
    [ "$bad" -eq 0 ] || die "burst: $bad files on B are not 4096 bytes long"
    log "burst: $BURST_FILES files of 4 KiB written on A in $(seconds $((t_created - t0))) s, all on B $(seconds $((t1 - t0))) s after the first"
    echo "RESULT syncthing_burst_files $BURST_FILES"
    echo "RESULT syncthing_burst_s $(seconds $((t1 - t0)))"
    echo "RESULT syncthing_burst_created_s $(seconds $((t_created - t0)))"
fi

mapfile -t sorted < <(printf '%s\n' "${lat[@]}" | sort -n)
n=${#sorted[@]}
if ((n % 2)); then median=${sorted[n / 2]}; else median=$(((sorted[n / 2 - 1] + sorted[n / 2]) / 2)); fi
list=""
for v in "${lat[@]}"; do list+="${list:+,}$(seconds "$v")"; done
log "median $(seconds "$median") s, min $(seconds "${sorted[0]}") s, max $(seconds "${sorted[-1]}") s; total $(seconds $((${EPOCHREALTIME/./} - t_start))) s since the start"
echo "RESULT syncthing_latency_median_s $(seconds "$median")"
echo "RESULT syncthing_latency_runs_s $list"
echo "RESULT syncthing_version $version"
