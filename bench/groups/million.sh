# Row group "million": a rescan of 1,000,000 unchanged files in a plain-directory arena (1,000
# directories of 1,000) vs find -printf, each run right after the other (this VM pages out data idle).
million_rows=1
# A new file system for the group (bench/run, group_fs): a million files are made and removed.
million_fs=new
group_million() {
    local files=1000000 runs=5
    [ "$quick" = 0 ] || { files=100000; runs=3; }
    bench scan-setup "$dir/m" "$files" --plain --per-dir 1000
    bench scan "$dir/m" --runs "$runs"
}
