#!/bin/bash
# gosweep.sh CKPT TAG "SAMPLE ARGS": export 1,000 samples from one checkpoint with cmd/sample, score them with
# ../shared/tools/fdscore and append a line to research/issue10/go-sweep.jsonl (sampler settings on a fixed critic).
# FDDS: the fdscore dataset (mnist; the line's fields: fdrow.py); SAMPLE: the cmd/sample binary (bin/sample). Build first: go build -o bin/ ./cmd/sample
set -u
FDDS=${FDDS:-mnist}
cd "$(dirname "$0")/../.."
ck=$1; tag=$2; sargs=$3
out=/tmp/png-sweep-$tag
rm -rf $out
mkdir -p runs/exp/sweep
${SAMPLE:-bin/sample} -ckpt $ck -n 1000 -out $out -grid runs/exp/sweep/grid-$tag.png -scale 2 $sargs > runs/exp/sweep/sample-$tag.log 2>&1 || { echo "sample $tag failed"; tail -3 runs/exp/sweep/sample-$tag.log; exit 1; }
r=$(/usr/bin/python3 ../shared/tools/fdscore/score.py --dataset $FDDS --samples $out --n 1000 2>/dev/null | tail -1)
python3 research/issue10/fdrow.py "$r" ckpt=$ck tag=$tag "sargs=$sargs" | tee -a research/issue10/go-sweep.jsonl
rm -rf $out
