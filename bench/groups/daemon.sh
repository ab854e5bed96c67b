# Row group "daemon": 'realize up' on a store whose arena is in the merged view: close() of a
# new file to its durable notification; 5 batches of 20,000 files created through the view, each
# until recorded; the daemon idle watching those 100,000 files (RSS).
daemon_rows=3
group_daemon() {
    local latency=21 files=20000 batches=5 idle=30
    [ "$quick" = 0 ] || { latency=5; files=5000; batches=2; idle=5; }
    bench daemon-setup "$dir/latency" --cli "$cli"
    bench daemon-latency "$dir/latency" --runs "$latency" --cli "$cli"
    bench daemon-setup "$dir/load" --cli "$cli"
    bench daemon-load "$dir/load" "$files" --batches "$batches" --idle-s "$idle" --cli "$cli"
}
