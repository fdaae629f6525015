#!/usr/bin/python3
"""PyTorch side of bench/compare.sh for the ops torchref's `mirror.py bench` lacks.

A development tool, not part of the product: it imports the independent PyTorch implementation in
../shared/tools/torchref/mirror.py (path from $TORCHREF, default ../shared/tools/torchref) and times

  train_interp_adam  the trainer's default step: loss with the penalty at interpolates, backward, Adam update
                     (the Go side: BenchmarkTrainStepInterpAdam in ./model)
  flow_exact         one exact MMD-flow step of 256 particles in one pass, as the Go flow takes it (the Go side:
                     BenchmarkFlowStepSmall/exact in ./sample): phi of every particle with autograd, the
                     leave-one-out directions m_P - (sum phi - phi_i) / (N - 1) from phi detached, then
                     grad_z <phi(z_i), dir_i> by one backward pass through the same graph

The other ops go to mirror.py itself. Prints one RESULT JSON line like mirror.py (median seconds per op, peak RSS).
"""
import argparse
import json
import os
import resource
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("TORCHREF", os.path.join(here, "..", "..", "shared", "tools", "torchref")))
import mirror  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def make(op, B=64, N=256, size=32, ch=3):
    torch.manual_seed(0)
    cfg = mirror.preset("small", size, ch)
    net = mirror.DMMDNet(cfg).init_like_go(1)
    params = list(net.parameters())
    g = torch.Generator().manual_seed(1)
    if op == "train_interp_adam":
        x = torch.randn(B, ch, size, size, generator=g)
        y = torch.randn(B, ch, size, size, generator=g)
        u = torch.rand(B, 1, 1, 1, generator=g)
        z = u * x + (1 - u) * y
        opt = torch.optim.Adam(params, lr=3e-4, betas=(0.5, 0.999), eps=1e-8)

        def step():
            for p in params:
                p.grad = None
            loss, _ = mirror.critic_loss(net, x, y, 0.5, penalty_at="interp", z=z)
            loss.backward(inputs=params)
            opt.step()
        return step
    if op == "flow_exact":
        for p in params:
            p.requires_grad_(False)
        zz = torch.randn(N, ch, size, size, generator=g)
        mp = torch.randn(cfg["feature_dim"], generator=g)

        def step():
            zr = zz.detach().requires_grad_(True)
            phi = net(zr, 0.5)
            with torch.no_grad():
                dirs = mp - (phi.sum(0) - phi) / (N - 1)
            torch.autograd.grad(phi, zr, grad_outputs=dirs)
        return step
    raise SystemExit("torchside: unknown op " + op)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--op", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    step = make(a.op)
    step()  # warm-up, as the Go benchmarks do
    per_round = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for _ in range(a.iters):
            step()
        per_round.append((time.perf_counter() - t0) / a.iters)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT " + json.dumps(dict(op=a.op, threads=a.threads, torch_threads=torch.get_num_threads(),
                                      iters=a.iters, rounds=a.rounds,
                                      s_per_op_rounds=[round(v, 4) for v in per_round],
                                      median_s_per_op=float(np.median(per_round)), peak_rss_mib=round(rss, 1),
                                      omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""),
                                      torch=torch.__version__)))


if __name__ == "__main__":
    main()
