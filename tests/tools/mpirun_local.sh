#!/usr/bin/env bash
# Starts a command as N MPI ranks on this machine, as the tests need on a
# small shared one:
#
#   tests/tools/mpirun_local.sh N COMMAND [ARGS...]
#
# Open MPI refuses more ranks than cores unless --oversubscribe, and root
# (CI containers) unless --allow-run-as-root. Each rank gets one OpenMP
# thread unless OMP_NUM_THREADS says otherwise. NIB_MPIEXEC names the
# launcher (CMake passes the one it found; default mpirun).
set -euo pipefail
ranks="$1"
shift
launcher="${NIB_MPIEXEC:-mpirun}"
flags=()
if "$launcher" --version 2>&1 | grep -q -E "Open MPI|OpenRTE"; then
  flags+=(--oversubscribe)
  [ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "$launcher" -np "$ranks" "${flags[@]}" "$@"
