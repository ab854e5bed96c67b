#!/usr/bin/env bash
# Installs what Realize needs on Debian 12, builds it, and runs the built-in demo.
# Run as root: the demo mounts an overlay. `./setup.sh --no-demo` only installs and builds.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (it installs Debian packages and the demo mounts an overlay)" >&2
    exit 1
fi

# Debian packages: openssl and findutils are baselines of the benchmarks (bench/run), and so
# are syncthing and rclone (rclone mount needs fuse3's fusermount3); jq and curl query Syncthing's REST API by hand.
missing=()
for pkg in openssl findutils ca-certificates syncthing rclone fuse3 jq curl; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v dotnet >/dev/null; then
    echo "setup.sh: the .NET 10 SDK is needed (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
    exit 1
fi

dotnet restore Realize.slnx
dotnet build Realize.slnx -c Release --no-restore -nologo -clp:ErrorsOnly
ln -sf "$PWD/src/Realize.Cli/bin/Release/net10.0/realize" ./realize

if [ "${1:-}" != "--no-demo" ]; then
    ./realize demo
fi
