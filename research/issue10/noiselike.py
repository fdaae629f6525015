#!/usr/bin/python3
"""noiselike.py DIR [--dataset mnist] [--n 1000]: how many generated samples are noise-like (issue 10's target).

A sample counts as noise-like when its high-frequency energy, the mean absolute value of the 4-neighbour discrete
Laplacian of the image in [0, 1], is above the largest of n real test images (so: noisier than every real digit);
also reported: the fraction whose classifier (../shared/tools/fdscore's) top-class probability is below 0.5, and the
same two numbers for the real images and for Gaussian noise as anchors. Reads PNGs with fdscore's loader.
A research script, not part of the product.
"""
import argparse
import json
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "shared", "tools", "fdscore"))
import common  # noqa: E402
import score  # noqa: E402


def lap_energy(x):
    x = x.astype(np.float64) / 255.0
    if x.ndim == 4:
        x = x.mean(-1)
    c = x[:, 1:-1, 1:-1]
    lap = 4 * c - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]
    return np.abs(lap).mean((1, 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()
    net, _ = common.load_classifier(a.dataset)
    real = common.load_split(a.dataset, "test" if a.dataset == "mnist" else "train")[0][: a.n]
    gen = score.load_pngs(a.samples, a.dataset, a.n)[0]
    rng = np.random.default_rng(0)
    noise = np.clip(rng.normal(127.5, 127.5, size=gen.shape), 0, 255).astype(np.uint8)
    thr = lap_energy(real).max()
    out = dict(samples=a.samples, n=len(gen), lap_threshold=round(float(thr), 4))
    for name, x in (("samples", gen), ("real", real), ("gaussian", noise)):
        e = lap_energy(x)
        _, p = common.predict(net, x)
        out[name] = dict(noise_like=round(float((e > thr).mean()), 4), low_conf=round(float((p.max(1) < 0.5).mean()), 4),
                         lap_median=round(float(np.median(e)), 4))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
