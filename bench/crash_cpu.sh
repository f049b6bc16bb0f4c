#!/usr/bin/env bash
# On-CPU time per restart of a `false` crash loop, ours and daemontools side
# by side, read from /proc/PID/schedstat (ns) over the same window.
#
#   bench/crash_cpu.sh [SECONDS]        # default 20
#
# Needs daemontools' `supervise` on PATH and ours built (target/release).
# Each supervisor runs in a session of its own and is killed by pid at the end.
set -euo pipefail
secs=${1:-20}
ours=$(cd "$(dirname "$0")/.." && pwd)/target/release/supervise
work=$(mktemp -d /tmp/supervise-crashcpu-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/dt"
printf '#!/bin/sh\nexec false\n' > "$work/dt/run"
chmod +x "$work/dt/run"
cd "$work"
setsid supervise dt > /dev/null 2>&1 & pids+=($!); disown
SUPERVISE_FOREGROUND=1 setsid "$ours" -p status/x -f false > /dev/null 2>&1 & pids+=($!); disown
sleep 0.5
oncpu() { awk '{print $1}' "/proc/$1/schedstat"; }
dt0=$(oncpu "${pids[0]}"); ours0=$(oncpu "${pids[1]}")
ours_starts0=$(grep -c "service started" status/x/supervise.log)
sleep "$secs"
dt1=$(oncpu "${pids[0]}"); ours1=$(oncpu "${pids[1]}")
ours_starts1=$(grep -c "service started" status/x/supervise.log)
# daemontools restarts once a second (it sleeps 1 s after every start).
dt_restarts=$secs
ours_restarts=$((ours_starts1 - ours_starts0))
echo "over ${secs} s: daemontools ${dt_restarts} restarts, $(( (dt1 - dt0) / 1000 / dt_restarts )) us on-CPU per restart"
echo "over ${secs} s: ours ${ours_restarts} restarts, $(( (ours1 - ours0) / 1000 / (ours_restarts > 0 ? ours_restarts : 1) )) us on-CPU per restart"
