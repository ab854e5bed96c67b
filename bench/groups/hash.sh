# Row group "hash": ContentHasher.HashFile of a file in page cache vs openssl dgst -sha256.
hash_rows=1
group_hash() {
    local mib=1024 runs=7
    [ "$quick" = 0 ] || { mib=256; runs=3; }
    head -c "${mib}M" /dev/urandom >"$dir/hash.bin"
    sync
    bench hash "$dir/hash.bin" --runs "$runs"
}
