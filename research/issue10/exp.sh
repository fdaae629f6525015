#!/bin/bash
# exp.sh NAME "TRAIN ARGS" "CKPT STEPS" "SAMPLE ARGS"
set -u
cd "$(dirname "$0")"
name=$1; targs=$2; cks=$3; sargs=${4:-}
d=runs/$name
mkdir -p $d
last=${cks##*,}
if [ ! -f $d/ckpt-$(printf %06d $last).pt ]; then
  /usr/bin/python3 proto.py train --out $d --steps $last --ckpt-steps $cks $targs > $d/train.log 2>&1 || { echo "train failed"; exit 1; }
fi
for c in ${cks//,/ }; do
  ck=$d/ckpt-$(printf %06d $c).pt
  tag=s$c$(echo "$sargs" | tr -d ' -' )
  rm -rf $d/png-$tag
  /usr/bin/python3 proto.py sample --ckpt $ck --n 1000 --out $d/png-$tag --grid $d/grid-$tag.png $sargs > $d/sample-$tag.log 2>&1
  r=$(/usr/bin/python3 ../../../shared/tools/fdscore/score.py --dataset mnist --samples $d/png-$tag --n 1000 2>/dev/null | tail -1)
  python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(json.dumps(dict(name='$name', step=$c, sargs='$sargs', fd=r['fd_cls'], ent=r['class_hist_entropy'], mmp=r['mean_max_prob'], kidpix=r['kid_pix'], nn=r['nn_train_dist'])))" "$r" | tee -a proto-results.jsonl
  rm -rf $d/png-$tag
done
