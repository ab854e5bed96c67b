#!/usr/bin/env bash
# Runs the whole test suite (as root: the tests mount real overlays). The README's test command.
set -euo pipefail
cd "$(dirname "$0")"
# The benchmarks are not in Realize.slnx (bench/run builds them apart): built here so that
# a change that breaks them is seen at once, not at the next benchmark run.
dotnet build bench/Realize.Bench/Realize.Bench.csproj -c Release --artifacts-path bench/artifacts -nologo -clp:ErrorsOnly
dotnet test Realize.slnx -c Release -nologo "$@"
