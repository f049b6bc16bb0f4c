#!/bin/sh
# A tiny example service: prints the time every second, to stdout and stderr.
while :; do
    date '+tick %H:%M:%S'
    echo "stderr $$" >&2
    sleep 1
done
