#!/bin/bash
# go.sh NAME STEPS "CKPTS" "TRAIN ARGS" "TAG=SAMPLEARGS|TAG=SAMPLEARGS"
# Trains runs/exp/NAME with cmd/train (TARGS0: the dataset flags, default MNIST from ../shared), then for each listed
# checkpoint and sampler variant exports 1,000 samples with cmd/sample, scores them with ../shared/tools/fdscore and
# appends a line to research/issue10/go-results.jsonl. Build the binaries first: go build -o bin/ ./cmd/train ./cmd/sample
# (TRAIN, SAMPLE: other binaries, e.g. built to /tmp while bin/ is in use). The line's fields: fdrow.py.
# Example: research/issue10/go.sh g8r8s0 2000 1000,2000 "-groups 8 -ref-ratio 0.8 -seed 0" 'ddim=-update ddim|euler=-update euler'
set -u
TARGS0=${TARGS0:-"-dataset mnist -data ../shared/data/mnist"}; FDDS=${FDDS:-mnist}
cd "$(dirname "$0")/../.."
name=$1; steps=$2; cks=$3; targs=$4; variants=$5
d=runs/exp/$name
mkdir -p $d-out
last=${cks##*,}
if [ ! -f $d/ckpt-$(printf %09d $last).safetensors ]; then
  ${TRAIN:-bin/train} $TARGS0 -out $d -steps $steps -ckpt-every 1000 -keep 100 -progress lines $targs > $d-out/train.log 2>&1 || { echo "train $name failed"; tail -5 $d-out/train.log; exit 1; }
fi
IFS='|' read -ra VS <<< "$variants"
for c in ${cks//,/ }; do
  ck=$d/ckpt-$(printf %09d $c).safetensors
  for v in "${VS[@]}"; do
    tag=${v%%=*}; sargs=${v#*=}
    out=/tmp/png-$name-$c-$tag
    rm -rf $out
    ${SAMPLE:-bin/sample} -ckpt $ck -n 1000 -out $out -grid $d-out/grid-$c-$tag.png -scale 2 $sargs > $d-out/sample-$c-$tag.log 2>&1 || { echo "sample $name $c $tag failed"; tail -3 $d-out/sample-$c-$tag.log; continue; }
    r=$(/usr/bin/python3 ../shared/tools/fdscore/score.py --dataset $FDDS --samples $out --n 1000 2>/dev/null | tail -1)
    python3 research/issue10/fdrow.py "$r" name=$name step=$c tag=$tag "sargs=$sargs" "targs=$targs" | tee -a research/issue10/go-results.jsonl
    rm -rf $out
  done
done
