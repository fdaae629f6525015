import json, sys
# diagtab.py RUNDIR... : step, t, pr_ref, witness_ref_std, mmd2, grad_cos, step_cos for the last diagnostics line of each run
for d in sys.argv[1:]:
    lines=[json.loads(l) for l in open(d+'/diagnostics.jsonl')]
    for L in lines:
        row=[f"{x['t']:g}:pr {x['pr_ref']:.1f} sd {x['witness_ref_std']:.3f} cos {x['grad_cos']:.2f} step {x.get('step_cos', float('nan')):.2f}" for x in L['levels']]
        print(d.split('/')[-1], L['step'], ' | '.join(row))
