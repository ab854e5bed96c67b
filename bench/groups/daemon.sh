# Row group "daemon": 'realize up' on a store whose arena is in the merged view: close() of a
# new file to its durable notification; 100,000 files created through the view until recorded;
# the daemon idle watching them (RSS).
daemon_rows=3
group_daemon() {
    local latency=21 files=100000 idle=30
    [ "$quick" = 0 ] || { latency=5; files=10000; idle=5; }
    bench daemon-setup "$dir/latency" --cli "$cli"
    bench daemon-latency "$dir/latency" --runs "$latency" --cli "$cli"
    bench daemon-setup "$dir/load" --cli "$cli"
    bench daemon-load "$dir/load" "$files" --idle-s "$idle" --cli "$cli"
}
