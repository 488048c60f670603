#!/usr/bin/env bash
# The README's test command, part by part, with the wall time of each part printed at the end, so
# that the growth of provisioning, lint and tests is visible in every CI log.
#   deploy/timed.sh NAME 'COMMAND' [NAME 'COMMAND' ...]
# Stops at the first part that fails (its exit status is the script's), after printing the times.
set -uo pipefail
summary=()
status=0
while [ $# -ge 2 ]; do
    name=$1 command=$2
    shift 2
    echo "== ${name}: ${command}"
    started=$(date +%s)
    bash -c "${command}"
    status=$?
    seconds=$(( $(date +%s) - started ))
    summary+=("$(printf '%-14s %6d s  %s' "${name}" "${seconds}" "$([ ${status} -eq 0 ] && echo ok || echo "FAILED (${status})")")")
    [ ${status} -eq 0 ] || break
done
echo
echo "== time per part (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
printf '%s\n' "${summary[@]}"
exit ${status}
