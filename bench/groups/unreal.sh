# Row group "unreal": two daemons, A listening with the data, B blind with its merged view over
# the Unreal: find over 100,000 remote files (first and second run) vs native; the first read of
# an uncached 1 GiB file vs rclone mount; the cached file warm and cold vs its blob file.
unreal_rows=5
group_unreal() {
    local files=100000 mib=1024 runs=5 first=5
    # Quick: two first reads all the same, so that the second (a new file written on A) is tried.
    [ "$quick" = 0 ] || { files=10000; mib=256; runs=1; first=2; }
    bench unreal-setup "$dir/u" --files "$files" --mib "$mib" --cli "$cli"
    bench unreal "$dir/u" --runs "$runs" --first-runs "$first" --cold-runs "$runs" --find-runs "$runs" --cli "$cli"
}
