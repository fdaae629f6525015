#!/bin/bash
# lowt.sh NAME "ARGS": train at fixed t=0.02 for 600 steps (paired), print the diag line at t=0.02
cd "$(dirname "$0")"
d=runs/lowt_$1
THREADS=1 /usr/bin/python3 proto.py train --out $d --steps 600 --ckpt-steps 600 --tdist fixed:0.02 $2 > $d.log 2>&1
r=$(THREADS=1 /usr/bin/python3 proto.py diag --ckpt $d/ckpt-000600.pt 2>&1 | head -1)
echo "{\"lowt\": \"$1\", \"args\": \"$2\", \"diag\": $r}" >> proto-lowt.jsonl
