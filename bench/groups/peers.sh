# Row group "peers": a history of 1,000,000 added notifications from a listening peer to fresh
# blind ones over TLS on loopback, vs the same batches applied in-process.
peers_rows=1
group_peers() {
    local notifications=1000000 runs=5
    [ "$quick" = 0 ] || { notifications=100000; runs=1; }
    bench peers-setup "$dir/p" "$notifications" --runs "$runs"
    bench peers "$dir/p" --runs "$runs" --cli "$cli"
}
