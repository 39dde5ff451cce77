#!/usr/bin/env bash
# Reproduces engine/model/ from scratch (see training/README.md): checks the de-quantised
# Rampart copy, fine-tunes the 6-layer tagger, exports, quantises and checks it. Run through
# `make train`. Work files go to $DOPPEL_TRAIN_DIR. STUDENT_STEPS > 0 also distils a 3-layer
# student from the exported 6-layer model (soft labels from its int8 ONNX) and ships that
# instead: twice as fast, higher recall, but ~8x the false positives on technical text
# (training/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${DOPPEL_TRAIN_DIR:-/tmp/doppel-train}
TEACHER_STEPS=${TEACHER_STEPS:-800}
STUDENT_STEPS=${STUDENT_STEPS:-0}
THREADS=${TRAIN_THREADS:-2}
mkdir -p "$OUT"
start=$(date +%s)
$PY -m training.rampart
$PY -m training.train --layers 6 --steps "$TEACHER_STEPS" --threads "$THREADS" \
    --out "$OUT/teacher" | tee "$OUT/teacher.log"
if [ "$STUDENT_STEPS" -gt 0 ]; then
    $PY -m training.export --run "$OUT/teacher" --out "$OUT/teacher-model"
    $PY -m training.train --layers 3 --teacher-onnx "$OUT/teacher-model" --lr 1.5e-4 \
        --steps "$STUDENT_STEPS" --threads "$THREADS" --out "$OUT/student" | tee "$OUT/student.log"
    $PY -m training.export --run "$OUT/student" --teacher-run "$OUT/teacher" --out engine/model
else
    $PY -m training.export --run "$OUT/teacher" --out engine/model
fi
echo "make train: $(( ($(date +%s) - start) / 60 )) min"
