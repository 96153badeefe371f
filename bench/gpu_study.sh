#!/bin/sh
# The GPU study (make bench-gpu): gradbench's sweeps on PyTorch on a CUDA device, then fit, plot, report.
#
#   results/gpu/depth.csv  every method at width 16, depth 1..64         (naive, backprop, checkpoint, autograd, forward)
#   results/gpu/deep.csv   naive and backprop at width 16, 64, 128, depth 128..1024: where naive's depth
#                          exponent climbs back to its theory (2) once the device's parallel chains are full
#   results/gpu/width.csv  depth 4, width 16..1024                       (naive, backprop, autograd, forward)
#   results/gpu/report.md, plots/gpu/
#
# Bounded in wall time: each sweep gets a slice of seconds (SLICE_*), after which it is stopped and keeps its
# complete rows (points run smallest first, so what is cut is the largest); a point predicted or running over
# MAX_SECONDS is skipped or killed by the sweep's own budget. The defaults fit in about 7 minutes (380 s of sweeps).
# It installs nothing: PyTorch with CUDA must already be in the venv. Where it is missing, or no CUDA device is
# there, the first sweep refuses in one line (exit status 2) and nothing is written.
set -u
BIN=${BIN:-.venv/bin}
DEVICE=${DEVICE:-cuda}
DTYPE=${DTYPE:-float64}
PROFILE=${PROFILE:-study}
MAX_SECONDS=${MAX_SECONDS:-30}
SLICE_DEPTH=${SLICE_DEPTH:-160}
SLICE_DEEP=${SLICE_DEEP:-110}
SLICE_WIDTH=${SLICE_WIDTH:-110}
OUT=${OUT:-results/gpu}
PLOTS=${PLOTS:-plots/gpu}

if [ ! -x "$BIN/gradbench" ]; then
    echo "gradbench: error: $BIN/gradbench not found: make venv, then install PyTorch with CUDA into it" >&2
    exit 2
fi
status=0

# sweep NAME SLICE OPTIONS...: one sweep into $OUT/NAME.csv, stopped after SLICE seconds
sweep() {
    name=$1 slice=$2
    shift 2
    timeout "$slice" "$BIN/gradbench" sweep --backend torch --device "$DEVICE" --dtype "$DTYPE" \
        --profile "$PROFILE" --max-seconds "$MAX_SECONDS" --force --out "$OUT/$name.csv" "$@"
    rc=$?
    case $rc in
        0) ;;
        1) status=1 ;;  # a gradient disagreed with backprop: the rows say which; the study goes on
        124) echo "bench-gpu: $name: its $slice s are up; the points measured so far are kept" >&2 ;;
        *) exit "$rc" ;;  # 2: refused (no PyTorch, no CUDA device), nothing written
    esac
}

sweep depth "$SLICE_DEPTH" --depth 1,2,4,8,16,32,64 --width 16 --methods naive,backprop,checkpoint,autograd,forward
sweep deep "$SLICE_DEEP" --depth 128,256,512,1024 --width 16,64,128 --methods naive,backprop
sweep width "$SLICE_WIDTH" --depth 4 --width 16,32,64,128,256,512,1024 --methods naive,backprop,autograd,forward

# fit, plot and report the files that hold rows (a sweep stopped during its first point holds only a header)
files=""
for name in depth deep width; do
    f="$OUT/$name.csv"
    if [ -f "$f" ] && [ "$(wc -l < "$f")" -gt 1 ]; then files="$files $f"; fi
done
if [ -z "$files" ]; then
    echo "gradbench: error: no sweep of the GPU study measured anything in its time" >&2
    exit 2
fi
# shellcheck disable=SC2086  # $files is a list of paths without spaces
"$BIN/gradbench" fit $files || exit $?
"$BIN/gradbench" plot $files --out-dir "$PLOTS" || exit $?
"$BIN/gradbench" report $files --out "$OUT/report.md" --plots-dir "$PLOTS" || exit $?
exit $status
