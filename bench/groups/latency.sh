# Row group "latency": an operation on peer A until peer B shows it with the right content,
# Realize (through B's merged view over the Unreal) vs Syncthing (B's folder): create, edit,
# delete and rename a small file, rename a directory of 1,000 files.
latency_rows=5
group_latency() {
    local runs=5 files=1000
    [ "$quick" = 0 ] || { runs=1; files=100; }
    bench latency "$dir/l" --runs "$runs" --dir-files "$files" --cli "$cli"
}
