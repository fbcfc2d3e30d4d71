#!/usr/bin/env bash
# Starts a command as N MPI ranks on this machine, as the tests need on a
# small shared one:
#
#   tests/tools/mpirun_local.sh N COMMAND [ARGS...]
#
# Open MPI refuses more ranks than cores unless --oversubscribe, and root
# (CI containers) unless --allow-run-as-root (the OMPI_ALLOW_RUN_AS_ROOT
# variables say the same to any Open MPI). In a container without the ptrace
# capability its shared-memory transport cannot copy between processes
# directly (CMA: "Read -1, expected ..., errno = 1"), so it copies through the
# shared segment instead (btl_vader_single_copy_mechanism none); a value
# already in the environment wins. Each rank gets one OpenMP thread unless
# OMP_NUM_THREADS says otherwise. NIB_MPIEXEC names the launcher (CMake
# passes the one it found; default mpirun).
set -euo pipefail
ranks="$1"
shift
launcher="${NIB_MPIEXEC:-mpirun}"
# MPI's library without its launcher (libopenmpi-dev, no openmpi-bin): ctest
# reports the test skipped (77) and says what is missing, rather than failing.
command -v "$launcher" >/dev/null || { echo "skipped: no MPI launcher '$launcher' (Debian: openmpi-bin)"; exit 77; }
flags=()
if "$launcher" --version 2>&1 | grep -q -E "Open MPI|OpenRTE"; then
  flags+=(--oversubscribe)
  if [ "$(id -u)" -eq 0 ]; then
    flags+=(--allow-run-as-root)
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  export OMPI_MCA_btl_vader_single_copy_mechanism="${OMPI_MCA_btl_vader_single_copy_mechanism:-none}"
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "$launcher" -np "$ranks" "${flags[@]}" "$@"
