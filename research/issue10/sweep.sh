#!/bin/bash
# sweep.sh CKPT TAG "SAMPLE ARGS" : sample 1000, score, append to sweep.jsonl
cd "$(dirname "$0")"
ck=$1; tag=$2; sargs=$3
out=runs/sw-$tag
rm -rf $out
log=$(THREADS=1 /usr/bin/python3 proto.py sample --ckpt $ck --n 1000 --out $out --grid runs/grid-sw-$tag.png $sargs 2>&1)
mse=$(echo "$log" | grep denoise_mse | awk '{print $2}')
r=$(/usr/bin/python3 ../../../shared/tools/fdscore/score.py --dataset mnist --samples $out --n 1000 2>/dev/null | tail -1)
python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(json.dumps(dict(ckpt='$ck', tag='$tag', sargs='$sargs', mse='$mse', fd=r['fd_cls'], ent=r['class_hist_entropy'], mmp=r['mean_max_prob'], kidpix=r['kid_pix'])))" "$r" | tee -a proto-sweep.jsonl
rm -rf $out
