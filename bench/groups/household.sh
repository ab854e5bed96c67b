# Row group "household": 10 listening peers on loopback, each listing the nine others, each with
# its merged view over its Unreal: a new small file on one until every other reads it through
# its view, and each daemon's RSS.
household_rows=2
group_household() {
    local peers=10 changes=10
    [ "$quick" = 0 ] || { peers=3; changes=3; }
    bench household "$dir/h" --peers "$peers" --changes "$changes" --cli "$cli"
}
