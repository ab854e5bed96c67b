#!/usr/bin/env bash
# Runs the whole test suite (as root: the tests mount real overlays). The README's test command.
set -euo pipefail
cd "$(dirname "$0")"
dotnet test Realize.slnx -c Release -nologo "$@"
