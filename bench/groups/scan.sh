# Row group "scan": a rescan of 100,000 unchanged files in a merged view's arena vs find -printf
# (the first scan and a rescan each in a fresh process first: their peak RSS is the row's cost).
scan_rows=1
# A new file system for the group (bench/run, group_fs): 100,000 files are made and removed.
scan_fs=new
group_scan() {
    local files=100000 runs=7
    [ "$quick" = 0 ] || { files=20000; runs=3; }
    bench scan-setup "$dir/s" "$files" --via-view
    bench scan "$dir/s" --runs "$runs"
    bench unmount "$dir/s"
}
