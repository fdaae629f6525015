"""fdrow.py FDSCORE_JSON KEY=VALUE...: one results line for go.sh and gosweep.sh.

Prints a JSON object with the KEY=VALUE fields first (step as an integer, the rest as strings), then fdscore's scores:
fd (fd_cls, or fd_pix16 for celeba64, which has no classifier), ent, mmp (-1 without a classifier), kidpix
(kid_pix, or kid_pix16), nn (nn_train_dist) and pix16 (true when fd is the pixel FD at 16x16).
"""
import json
import sys

r = json.loads(sys.argv[1])
row = {}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    row[k] = int(v) if k == "step" else v
row.update(fd=round(r.get("fd_cls", r.get("fd_pix16", -1)), 1), ent=round(r.get("class_hist_entropy", -1), 3),
           mmp=round(r.get("mean_max_prob", -1), 3), kidpix=r.get("kid_pix", r.get("kid_pix16")),
           nn=r["nn_train_dist"], pix16="fd_pix16" in r)
print(json.dumps(row))
