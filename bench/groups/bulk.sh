# Row group "bulk": 1,000 and 10,000 new 4 KiB files created at once on peer A, then a new 1 GiB
# file, until peer B reads all of it, Realize (through B's merged view over the Unreal) vs
# Syncthing (B's folder).
bulk_rows=3
group_bulk() {
    local runs=5 files=1000,10000 mib=1024
    # Quick: 200 files before the 1,000 (the row with a target).
    [ "$quick" = 0 ] || { runs=1; files=200,1000; mib=32; }
    bench bulk "$dir/b" --runs "$runs" --files "$files" --mib "$mib" --cli "$cli"
}
