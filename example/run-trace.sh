#!/bin/sh
# Runs one trace program (the C reference or the port) on a named configuration, the way an
# engineer would by hand: the configuration's flags from example/configs/CONFIG.args, then the
# pixel (PIXEL="SLOW FAST", or "auto" for the configuration's own), then the planted bug
# (INJECT=NAME, or "none"; port only).
# Usage: CONFIG=multi-phi PIXEL=auto INJECT=none example/run-trace.sh PROGRAM [ARGS...]
set -eu
here=$(dirname "$0")
config=${CONFIG:?set CONFIG to a name in $here/configs}
if [ ! -f "$here/configs/$config.args" ]; then
  echo "run-trace.sh: no configuration '$config' (known: $(cd "$here/configs" && ls *.args | sed 's/\.args$//' | tr '\n' ' '))" >&2
  exit 2
fi
pixel=${PIXEL:-auto}
[ "$pixel" = auto ] && pixel=$(cat "$here/configs/$config.pixel")
inject=${INJECT:-none}
# The flags are words on purpose: the .args file holds a command line.
# shellcheck disable=SC2046
if [ "$inject" = none ]; then
  exec "$@" $(cat "$here/configs/$config.args") -trace_pixel $pixel
else
  exec "$@" $(cat "$here/configs/$config.args") -trace_pixel $pixel --inject "$inject"
fi
