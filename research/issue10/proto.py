#!/usr/bin/python3
"""Research prototype for dmmd sample quality (issue 10). PyTorch, CPU. Not part of the product.

train:  proto.py train --out DIR [variant flags] --minutes M
sample: proto.py sample --ckpt DIR/ckpt-N.pt --n 1000 --out PNGDIR [sampler flags]
diag:   proto.py diag --ckpt DIR/ckpt-N.pt
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

SHARED = os.environ.get("SHARED", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared"))
sys.path.insert(0, os.path.join(SHARED, "tools/torchref"))
import mirror  # noqa: E402

torch.set_num_threads(int(os.environ.get("THREADS", "2")))
DATA = os.path.join(SHARED, "data/mnist")


def load_mnist(split="train"):
    name = "train-images-idx3-ubyte.gz" if split == "train" else "t10k-images-idx3-ubyte.gz"
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        buf = f.read()
    n = int.from_bytes(buf[4:8], "big")
    a = np.frombuffer(buf, dtype=np.uint8, offset=16).reshape(n, 1, 28, 28)
    return torch.from_numpy(a.astype(np.float32) / 127.5 - 1.0)


# ------------------------------------------------------------------------------------------------ paths
class VP:
    """score_sde VP: alpha_t = exp(-t^2 (bmax-bmin)/4 - t bmin/2), beta_t = sqrt(1 - alpha^2)."""

    def __init__(self, bmin=0.1, bmax=20.0):
        self.bmin, self.bmax = bmin, bmax

    def ab(self, t):
        t = torch.as_tensor(t, dtype=torch.float64)
        la = -t * t * (self.bmax - self.bmin) / 4 - t * self.bmin / 2
        a = torch.exp(la)
        b = torch.sqrt(-torch.expm1(2 * la))
        return a.float(), b.float()


class Linear:
    """Rectified-flow path: x_t = (1-t) y + t eps."""

    def ab(self, t):
        t = torch.as_tensor(t, dtype=torch.float32)
        return 1 - t, t


def make_path(name):
    return VP() if name == "vp" else Linear()


# ------------------------------------------------------------------------------------------------ network
def make_net(preset, seed, over=None):
    cfg = mirror.preset(preset, 28, 1)
    if over:
        cfg.update(over)
    torch.manual_seed(seed)
    net = mirror.DMMDNet(cfg).init_like_go(seed)
    return net, cfg


def tau_batch(net, ts):
    """Per-sample time MLP output (n, TimeHidden) for a list/tensor of t."""
    feats = torch.cat([net.time_features(float(t)) for t in ts], 0)
    return net.time(feats)


def feats(net, x, tau):
    """Features with tau either (1, th) or (n, th)."""
    return net.features(x, tau)


# ------------------------------------------------------------------------------------------------ loss
def group_loss(net, x, y, tau, a_args, z, G=1, weights=None):
    """G MMD estimates (one t each) in one forward pass: x noisy, y clean, z penalty points, (G*n each), tau (G*n, th)
    or (1, th). Returns the mean loss over groups and stats."""
    B = x.shape[0]
    n = B // G
    fa = feats(net, x, tau)
    fb = feats(net, y, tau)
    D = fa.shape[1]
    fa3, fb3 = fa.reshape(G, n, D), fb.reshape(G, n, D)
    sa, sb = fa3.sum(1), fb3.sum(1)  # (G, D)
    if a_args.mmd == "unbiased" and a_args.pair:
        # paired samples: the U-statistic over i != j of <d_i, d_j>, d = b - a (the cross term must skip i = j too)
        d3 = fb3 - fa3
        sd = d3.sum(1)
        mmd2 = ((sd * sd).sum(1) - (d3 * d3).sum((1, 2))) / (n * (n - 1))
    elif a_args.mmd == "unbiased":
        within = ((sa * sa).sum(1) - (fa3 * fa3).sum((1, 2))) + ((sb * sb).sum(1) - (fb3 * fb3).sum((1, 2)))
        mmd2 = within / (n * (n - 1)) - 2.0 * (sa * sb).sum(1) / (n * n)
    else:
        d = sa / n - sb / n
        mmd2 = (d * d).sum(1)
    c = (sb - sa) / n  # (G, D)
    wa, wb = (fa3 * c[:, None, :]).sum(2), (fb3 * c[:, None, :]).sum(2)  # (G, n)
    if a_args.l2 == "mean_f2":
        l2 = (wa.pow(2).mean(1) + wb.pow(2).mean(1)) / 2
    elif a_args.l2 == "set_means":
        l2 = (wa.mean(1).pow(2) + wb.mean(1).pow(2)) / 2
    elif a_args.l2 == "feat":
        l2 = ((fa3 * fa3).sum(2).mean(1) + (fb3 * fb3).sum(2).mean(1)) / 2
    else:
        l2 = torch.zeros(G)
    zr = z.detach().requires_grad_(True)
    fz = feats(net, zr, tau)
    cz = c[:, None, :].expand(G, n, D).reshape(B, D)
    (gz,) = torch.autograd.grad(fz, zr, grad_outputs=cz, create_graph=True)
    norms = torch.sqrt(gz.reshape(B, -1).pow(2).sum(1) + 1e-12).reshape(G, n)
    if a_args.gp == "two_sided":
        pen = (norms - 1).pow(2).mean(1)
    else:
        pen = F.relu(norms - 1).pow(2).mean(1)
    extra = torch.zeros(G)
    if a_args.lam_spread > 0:
        fbc = fb3 - fb3.mean(1, keepdim=True)
        cov = torch.einsum("gni,gnj->gij", fbc, fbc) / (n - 1)
        tr = torch.diagonal(cov, dim1=1, dim2=2).sum(1)
        pr = tr * tr / (cov * cov).sum((1, 2))
        extra = -a_args.lam_spread * torch.log(pr)
    per = a_args.lam_l2 * l2 + a_args.lam_grad * pen - mmd2 + extra
    if weights is not None:
        per = per * weights
    loss = per.mean()
    return loss, dict(mmd2=mmd2.mean().item(), l2=l2.mean().item(), pen=pen.mean().item(),
                      gnorm=norms.mean().item())


def gk(u, v, s2):
    """Gaussian kernel matrix between rows of u (..., n, D) and v (..., m, D), bandwidth s2 (..., 1, 1)."""
    d2 = (u * u).sum(-1)[..., :, None] + (v * v).sum(-1)[..., None, :] - 2 * u @ v.transpose(-1, -2)
    return torch.exp(-d2.clamp_min(0) / (2 * s2))


def median_s2(fa3, fb3):
    with torch.no_grad():
        f = torch.cat([fa3, fb3], 1)
        d2 = ((f[:, :, None, :] - f[:, None, :, :]) ** 2).sum(-1)
        G, m, _ = d2.shape
        iu = torch.triu_indices(m, m, 1)
        med = d2[:, iu[0], iu[1]].median(1).values
    return med.clamp_min(1e-6)[:, None, None]


def gauss_group_loss(net, x, y, tau, a_args, z, G=1, weights=None):
    B = x.shape[0]
    n = B // G
    fa = feats(net, x, tau)
    fb = feats(net, y, tau)
    D = fa.shape[1]
    fa3, fb3 = fa.reshape(G, n, D), fb.reshape(G, n, D)
    s2 = median_s2(fa3, fb3) if a_args.bw == "median" else torch.full((G, 1, 1), a_args.bw_value)
    Kaa, Kbb, Kab = gk(fa3, fa3, s2), gk(fb3, fb3, s2), gk(fa3, fb3, s2)
    off = 1 - torch.eye(n)
    maa = (Kaa * off).sum((1, 2)) / (n * (n - 1))
    mbb = (Kbb * off).sum((1, 2)) / (n * (n - 1))
    mab = Kab.mean((1, 2))
    mmd2 = maa + mbb - 2 * mab
    # witness f(z) = mean_j k(z, b_j) - mean_i k(z, a_i)
    wa = Kab.mean(2) - Kaa.mean(2)
    wb = Kbb.mean(2) - Kab.transpose(1, 2).mean(2)
    l2 = (wa.pow(2).mean(1) + wb.pow(2).mean(1)) / 2
    zr = z.detach().requires_grad_(True)
    fz = feats(net, zr, tau).reshape(G, n, D)
    fzv = gk(fz, fb3, s2).mean(2) - gk(fz, fa3, s2).mean(2)
    (gz,) = torch.autograd.grad(fzv.sum(), zr, create_graph=True)
    norms = torch.sqrt(gz.reshape(B, -1).pow(2).sum(1) + 1e-12).reshape(G, n)
    pen = (norms - 1).pow(2).mean(1)
    if a_args.kernel == "gauss_rep":
        crit = mbb - maa  # repulsive (Wang et al. 2019): spread clean features, contract noisy ones
        per = crit + a_args.lam_l2 * l2 + a_args.lam_grad * pen
    else:
        per = -mmd2 + a_args.lam_l2 * l2 + a_args.lam_grad * pen
    if weights is not None:
        per = per * weights
    return per.mean(), dict(mmd2=mmd2.mean().item(), l2=l2.mean().item(), pen=pen.mean().item(),
                            gnorm=norms.mean().item(), s2=s2.mean().item())


def sample_t(rng, n, tdist, tmin):
    if tdist.startswith("fixed:"):
        return np.full(n, float(tdist[6:]))
    u = rng.random(n)
    if tdist == "quad":
        u = u * u
    return tmin + (1 - tmin) * u


def train(a):
    os.makedirs(a.out, exist_ok=True)
    json.dump(vars(a), open(os.path.join(a.out, "args.json"), "w"), indent=1)
    data = load_mnist("train")
    N = data.shape[0]
    over = {}
    if a.widths:
        over["widths"] = [int(v) for v in a.widths.split(",")]
    if a.stem_stride:
        over["stem_stride"] = a.stem_stride
    if a.res_blocks is not None:
        over["res_blocks"] = a.res_blocks
    if a.feature_dim:
        over["feature_dim"] = a.feature_dim
    net, cfg = make_net(a.preset, a.seed, over)
    ema, _ = make_net(a.preset, a.seed, over)
    ema.load_state_dict(net.state_dict())
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(a.beta1, 0.999))
    path = make_path(a.path)
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    t0 = time.time()
    log = open(os.path.join(a.out, "metrics.jsonl"), "a")
    step = 0
    next_ck = 0.0
    G = a.groups
    n = a.batch // G
    while True:
        el = time.time() - t0
        ck_now = (step in a.ckpt_steps) if a.ckpt_steps else el >= next_ck * 60
        if ck_now or (a.minutes and el >= a.minutes * 60) or (a.steps and step >= a.steps):
            torch.save(dict(net=net.state_dict(), ema=ema.state_dict(), cfg=cfg, args=vars(a), step=step,
                            minutes=el / 60), os.path.join(a.out, "ckpt-%06d.pt" % step))
            next_ck += a.ckpt_minutes
            if (a.minutes and el >= a.minutes * 60) or (a.steps and step >= a.steps):
                break
        idx = torch.from_numpy(rng.integers(0, N, size=2 * a.batch))
        y = data[idx[:a.batch]]
        x0 = data[idx[a.batch:]]
        if a.pair:
            y = x0
        ts = sample_t(rng, G, a.tdist, a.tmin)
        eps = torch.randn(x0.shape, generator=gen)
        opt.zero_grad()
        tg = np.repeat(ts, n)
        al, be = path.ab(torch.from_numpy(tg))
        al, be = al.reshape(-1, 1, 1, 1), be.reshape(-1, 1, 1, 1)
        if a.target == "clean":
            yy = y
        else:
            als, bes = path.ab(torch.from_numpy(tg * a.rho))
            ny = eps if a.same_noise else torch.randn(y.shape, generator=gen)
            yy = als.reshape(-1, 1, 1, 1) * y + bes.reshape(-1, 1, 1, 1) * ny
        x = al * x0 + be * eps
        u = torch.rand(a.batch, 1, 1, 1, generator=gen)
        z = x if a.penalty_xt else u * x + (1 - u) * yy
        tau = net.tau(float(ts[0])) if G == 1 else tau_batch(net, tg)
        w = None
        if a.weight != "none":
            _, bts = path.ab(torch.from_numpy(ts))
            w = 1 / bts if a.weight == "inv_beta" else 1 / bts.sqrt()
            w = w / w.mean() if a.weight_norm == "batch" else w
        lf = group_loss if a.kernel == "linear" else gauss_group_loss
        loss, st = lf(net, x, yy, tau, a, z, G, w)
        loss.backward()
        loss_tot = loss.item()
        st["t"] = ts
        stats = [st]
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), a.clip)
        opt.step()
        step += 1
        d = min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pn in zip(ema.parameters(), net.parameters()):
                pe.mul_(d).add_(pn, alpha=1 - d)
        if step % 10 == 0:
            rec = dict(step=step, time=round(time.time() - t0, 1), loss=loss_tot,
                       mmd2=float(np.mean([s["mmd2"] for s in stats])), pen=float(np.mean([s["pen"] for s in stats])),
                       l2=float(np.mean([s["l2"] for s in stats])), gnorm=float(np.mean([s["gnorm"] for s in stats])),
                       t=[round(float(v), 3) for v in stats[0]["t"]])
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if step % 200 == 0:
            print("step %d %.0fs loss %.3f" % (step, time.time() - t0, loss_tot), flush=True)


# ------------------------------------------------------------------------------------------------ sampling
def load_ckpt(path, which="ema"):
    ck = torch.load(path)
    net = mirror.DMMDNet(ck["cfg"])
    net.load_state_dict(ck[which])
    net.eval()
    return net, ck


def levels_grid(T, tmin, tmax=1.0, spacing="uniform"):
    u = np.linspace(1, 0, T)
    if spacing == "quadratic":
        u = u * u
    return tmin + (tmax - tmin) * u


@torch.no_grad()
def embeddings(net, data, levels, path, n_embed, seed, at):
    """m[k] = mean phi(x_{at[k]}; levels[k]) over n_embed training images; at[k] = 0 means clean data."""
    g = torch.Generator().manual_seed(seed + 7)
    y = data[:n_embed]
    out = []
    for t, s_ in zip(levels, at):
        tau = net.tau(float(t))
        acc = 0
        for lo in range(0, n_embed, 500):
            xb = y[lo:lo + 500]
            if s_ > 0:
                al, be = path.ab(float(s_))
                xb = al * xb + be * torch.randn(xb.shape, generator=g)
            acc = acc + net.features(xb, tau).double().sum(0)
        out.append((acc / n_embed).float())
    return out


def step_sizes(levels, a):
    T = len(levels)
    path = make_path(a.path)
    if a.eta_schedule == "constant":
        return [a.eta] * T
    nxt = list(levels[1:]) + [0.0]
    dist = []
    for t, s in zip(levels, nxt):
        at, bt = path.ab(float(t))
        as_, bs = path.ab(float(s))
        dist.append(math.sqrt(float((at - as_) ** 2) * a.sig2 + float((bt - bs) ** 2)))
    if a.eta_schedule == "natural":
        return [a.eta * math.sqrt(784) * d / a.nsteps for d in dist]
    tot = sum(dist)
    return [a.eta * d / tot / a.nsteps for d in dist]


def init_particles(a, N, seed):
    g = torch.Generator().manual_seed(seed)
    Z = torch.randn(N, 1, 28, 28, generator=g)
    if a.t_start < 1.0:
        test = load_mnist("test")
        lo = seed % 5000
        x0 = test[lo:lo + N]
        al, be = make_path(a.path).ab(a.t_start)
        Z = al * x0 + be * Z
    return Z


def calibrate(net, mp, levels, a, n=200):
    """Per level: lambda_k = mean <unit grad f(u_t), y_ref - u_t> over held-out images (the least-squares step
    length along the witness direction), with the witness direction of the training objective, c = m_ref - m_t."""
    path = make_path(a.path)
    test = load_mnist("test")
    x0 = test[5000:5000 + n]
    g = torch.Generator().manual_seed(123)
    eps = torch.randn(x0.shape, generator=g)
    lam, coss = [], []
    mt = embeddings(net, load_mnist("train"), levels, path, a.embed_n, 5, levels)
    for k, t in enumerate(levels):
        al, be = path.ab(float(t))
        u = al * x0 + be * eps
        if a.ref_rho > 0:
            ar, br = path.ab(float(t) * a.ref_rho)
            yref = ar * x0 + br * eps
        else:
            yref = x0
        tau = net.tau(float(t))
        zr = u.detach().requires_grad_(True)
        ph = net.features(zr, tau)
        c = (mp[k] - mt[k])[None, :].expand_as(ph)
        (gz,) = torch.autograd.grad(ph, zr, grad_outputs=c)
        gv = gz.reshape(n, -1)
        unit = gv / gv.norm(dim=1, keepdim=True).clamp_min(1e-12)
        disp = (yref - u).reshape(n, -1)
        lam.append((unit * disp).sum(1).mean().item())
        coss.append(F.cosine_similarity(gv, disp, dim=1).mean().item())
    print("calibration lambda", [round(v, 2) for v in lam[::5]], "cos", [round(v, 2) for v in coss[::5]], flush=True)
    return lam


def flow(net, mp, mn, levels, a, N, seed):
    Z = init_particles(a, N, seed)
    T = len(levels)
    path = make_path(a.path)
    etas = step_sizes(levels, a)
    D = Z[0].numel()
    for k, t in enumerate(levels):
        tau = net.tau(float(t))
        if a.coords == "ve":
            al, be = path.ab(float(t))
            nxt = float(levels[k + 1]) if k + 1 < T else 0.0
            al2, be2 = path.ab(nxt) if nxt > 0 else (torch.tensor(1.0), torch.tensor(0.0))
            sig, sig2 = float(be / al), float(be2 / al2)
            X = Z / al  # VE coordinates: x = u / alpha_t = x0 + sigma_t eps
            delta = a.eta * (sig - sig2) * math.sqrt(D) / a.nsteps
        for s in range(a.nsteps):
            if a.flow == "exact":
                with torch.no_grad():
                    phi = torch.cat([net.features(Z[lo:lo + 256], tau) for lo in range(0, N, 256)], 0)
                S = phi.sum(0, keepdim=True)
                dirs = mp[k][None, :] - (S - phi) / (N - 1)
            else:
                dirs = (mp[k] - mn[k])[None, :].expand(N, -1)
            gs = []
            for lo in range(0, N, 256):
                zr = Z[lo:lo + 256].detach().requires_grad_(True)
                ph = net.features(zr, tau)
                (gz,) = torch.autograd.grad(ph, zr, grad_outputs=dirs[lo:lo + 256])
                gs.append(gz)
            gz = torch.cat(gs, 0)
            norms = gz.reshape(N, -1).norm(dim=1)
            if a.coords == "ddim":
                unit = gz / norms.clamp_min(1e-12).reshape(N, 1, 1, 1)
                # sub-level of this step: t_k -> t_next split in nsteps pieces
                nxt = float(levels[k + 1]) if k + 1 < T else 0.0
                ta = float(t) + (nxt - float(t)) * s / a.nsteps
                tb = float(t) + (nxt - float(t)) * (s + 1) / a.nsteps
                at_, bt_ = [float(v) for v in path.ab(ta)]
                ab_, bb_ = ([float(v) for v in path.ab(tb)] if tb > 0 else (1.0, 0.0))
                rho = a.ref_rho
                ar, br = ([float(v) for v in path.ab(rho * ta)] if rho > 0 else (1.0, 0.0))
                if a.lam is not None:
                    L = a.eta * a.lam[k]
                else:
                    L = a.eta * math.sqrt(D * ((ar - at_) ** 2 * a.sig2 + (br - bt_) ** 2))
                det = at_ * (br - bt_) - bt_ * (ar - at_)
                yhat = ((br - bt_) * Z - bt_ * L * unit) / det
                if a.yclip:
                    yhat = yhat.clamp(-1, 1)
                eps = (Z - at_ * yhat) / bt_
                Z = ab_ * yhat + bb_ * eps
                continue
            if a.coords == "ve":
                if a.vnorm == "particle":
                    unit = gz / norms.clamp_min(1e-12).reshape(N, 1, 1, 1)
                else:
                    unit = gz / max(norms.mean().item(), 1e-12)
                X = X + delta * unit
                Z = X * al
                continue
            sc = etas[k]
            if a.eta_norm:
                sc = sc / max(norms.mean().item(), 1e-12)
            Z = Z + sc * gz
        if a.coords == "ve":
            Z = X * al2
    return Z.clamp(-1, 1)


@torch.no_grad()
def gauss_bank(net, data, levels, path, M, seed):
    """Per level: M clean-data features, M noisy-data features and the median-heuristic bandwidth."""
    g = torch.Generator().manual_seed(seed + 11)
    y = data[:M]
    x0 = data[M:2 * M]
    Ys, Xs, S2 = [], [], []
    for t in levels:
        tau = net.tau(float(t))
        al, be = path.ab(float(t))
        fy = torch.cat([net.features(y[lo:lo + 500], tau) for lo in range(0, M, 500)], 0)
        xt = al * x0 + be * torch.randn(x0.shape, generator=g)
        fx = torch.cat([net.features(xt[lo:lo + 500], tau) for lo in range(0, M, 500)], 0)
        meds = []
        for r in range(4):
            sl = slice(r * 64, (r + 1) * 64)
            meds.append(median_s2(fx[None, sl], fy[None, sl]).item())
        Ys.append(fy)
        Xs.append(fx)
        S2.append(float(np.mean(meds)))
    return Ys, Xs, S2


def gauss_flow(net, bank, levels, a, N, seed):
    Ys, Xs, S2 = bank
    Z = init_particles(a, N, seed)
    T = len(levels)
    etas = step_sizes(levels, a)
    for k, t in enumerate(levels):
        tau = net.tau(float(t))
        s2 = S2[k]
        for s in range(a.nsteps):
            if a.flow == "exact":
                with torch.no_grad():
                    phi = torch.cat([net.features(Z[lo:lo + 256], tau) for lo in range(0, N, 256)], 0)
            gsl = []
            for lo in range(0, N, 256):
                zr = Z[lo:lo + 256].detach().requires_grad_(True)
                ph = net.features(zr, tau)
                f = gk(ph, Ys[k], s2).mean(1)
                if a.flow == "exact":
                    f = f - (gk(ph, phi, s2).sum(1) - 1) / (N - 1)
                else:
                    f = f - gk(ph, Xs[k], s2).mean(1)
                (gz,) = torch.autograd.grad(f.sum(), zr)
                gsl.append(gz)
            gz = torch.cat(gsl, 0)
            norms = gz.reshape(N, -1).norm(dim=1)
            sc = etas[k]
            if a.eta_norm:
                sc = sc / max(norms.mean().item(), 1e-12)
            Z = Z + sc * gz
    return Z.clamp(-1, 1)


def write_pngs(Z, out, start=0):
    from PIL import Image
    os.makedirs(out, exist_ok=True)
    arr = np.floor(np.clip((Z.numpy() + 1) / 2, 0, 1) * 255 + 0.5).astype(np.uint8)
    for i in range(arr.shape[0]):
        Image.fromarray(arr[i, 0], mode="L").save(os.path.join(out, "%06d.png" % (start + i)))


def grid(Z, path, nrow=16):
    from PIL import Image
    arr = np.floor(np.clip((Z.numpy() + 1) / 2, 0, 1) * 255 + 0.5).astype(np.uint8)[:, 0]
    n = min(arr.shape[0], nrow * nrow)
    rows = (n + nrow - 1) // nrow
    im = np.full((rows * 30, nrow * 30), 128, np.uint8)
    for i in range(n):
        r, c = divmod(i, nrow)
        im[r * 30 + 1:r * 30 + 29, c * 30 + 1:c * 30 + 29] = arr[i]
    Image.fromarray(im, mode="L").resize((nrow * 60, rows * 60), Image.NEAREST).save(path)


def sample(a):
    net, ck = load_ckpt(a.ckpt, getattr(a, 'which', 'ema'))
    if a.path is None:
        a.path = ck["args"].get("path", "vp")
    if a.target is None:
        a.target = ck["args"].get("target", "clean")
    data = load_mnist("train")
    levels = levels_grid(a.levels, a.tmin, tmax=a.t_start, spacing=a.spacing)
    lv = list(levels)
    if a.target == "next":
        pass
    P = make_path(a.path)
    kern = ck["args"].get("kernel", "linear")
    if kern != "linear":
        bank = gauss_bank(net, data, lv, P, a.embed_n, 0)
        outs = []
        for g in range(0, a.n, a.particles):
            outs.append(gauss_flow(net, bank, lv, a, min(a.particles, a.n - g), a.seed * 1000 + g))
        Z = torch.cat(outs, 0)
        if a.out:
            write_pngs(Z, a.out)
        if a.grid:
            grid(Z[:256], a.grid)
        return
    if a.target == "clean":
        at = [0.0] * len(lv)
    else:
        rho = ck["args"].get("rho", 0.8) if a.rho is None else a.rho
        at = [t * rho for t in lv]
    mp = embeddings(net, data, lv, P, a.embed_n, 0, at)
    mn = embeddings(net, data, lv, P, a.embed_n, 1, lv) if a.flow == "approx" else None
    a.lam = calibrate(net, mp, lv, a) if a.cal else None
    t0 = time.time()
    outs = []
    for g in range(0, a.n, a.particles):
        outs.append(flow(net, mp, mn, lv, a, min(a.particles, a.n - g), a.seed * 1000 + g))
    Z = torch.cat(outs, 0)
    print("sampled %d in %.0fs" % (a.n, time.time() - t0), flush=True)
    if a.t_start < 1.0:
        test = load_mnist("test")
        ref = torch.cat([test[(a.seed * 1000 + g) % 5000:(a.seed * 1000 + g) % 5000 + min(a.particles, a.n - g)]
                         for g in range(0, a.n, a.particles)], 0)
        print("denoise_mse %.4f" % ((Z - ref) ** 2).mean().item(), flush=True)
    if a.out:
        write_pngs(Z, a.out)
    if a.grid:
        grid(Z[:256], a.grid)


# ------------------------------------------------------------------------------------------------ diagnostics
def diag(a):
    net, ck = load_ckpt(a.ckpt)
    path = make_path(ck["args"].get("path", "vp"))
    test = load_mnist("test")
    g = torch.Generator().manual_seed(1)
    y = test[:256]
    x0 = test[256:512]
    out = []
    for t in [0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0]:
        al, be = path.ab(t)
        eps = torch.randn(x0.shape, generator=g)
        xt = al * x0 + be * eps
        tau = net.tau(t)
        with torch.no_grad():
            fb = net.features(y, tau).double()
            fa = net.features(xt, tau).double()
        c = fb.mean(0) - fa.mean(0)
        cb = fb - fb.mean(0)
        cov = cb.T @ cb / 255
        ev = torch.linalg.eigvalsh(cov)
        pr = (ev.sum() ** 2 / (ev * ev).sum()).item()
        wb = (fb @ c)
        wa = (fa @ c)
        cu = c / c.norm()
        frac = ((cb @ cu) ** 2).sum().item() / (cb * cb).sum().item()
        zr = xt.detach().requires_grad_(True)
        ph = net.features(zr, tau)
        (gz,) = torch.autograd.grad(ph, zr, grad_outputs=c.float().expand_as(ph))
        d = (x0 - xt).reshape(256, -1)
        gv = gz.reshape(256, -1)
        cos = F.cosine_similarity(gv, d, dim=1).mean().item()
        out.append(dict(t=t, mmd2=(c @ c).item(), pr=round(pr, 2), wstd_clean=wb.std().item(),
                        wstd_noisy=wa.std().item(), gap=(wb.mean() - wa.mean()).item(), frac_c=round(frac, 3),
                        cos=round(cos, 3), gnorm=gv.norm(dim=1).mean().item()))
    for r in out:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd")
    t = sub.add_parser("train")
    t.add_argument("--out", required=True)
    t.add_argument("--preset", default="small")
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--groups", type=int, default=1)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--beta1", type=float, default=0.5)
    t.add_argument("--ema", type=float, default=0.999)
    t.add_argument("--lam-l2", type=float, default=0.1)
    t.add_argument("--lam-grad", type=float, default=10.0)
    t.add_argument("--l2", default="mean_f2")
    t.add_argument("--mmd", default="unbiased")
    t.add_argument("--gp", default="two_sided")
    t.add_argument("--lam-spread", type=float, default=0.0)
    t.add_argument("--path", default="vp")
    t.add_argument("--tdist", default="quad")
    t.add_argument("--tmin", type=float, default=1e-3)
    t.add_argument("--target", default="clean")
    t.add_argument("--rho", type=float, default=0.8)
    t.add_argument("--weight", default="none")
    t.add_argument("--pair", action="store_true")
    t.add_argument("--penalty-xt", action="store_true")
    t.add_argument("--widths", default="")
    t.add_argument("--stem-stride", type=int, default=0)
    t.add_argument("--res-blocks", type=int, default=None)
    t.add_argument("--feature-dim", type=int, default=0)
    t.add_argument("--same-noise", action="store_true")
    t.add_argument("--kernel", default="linear")
    t.add_argument("--bw", default="median")
    t.add_argument("--bw-value", type=float, default=1.0)
    t.add_argument("--weight-norm", default="none")
    t.add_argument("--clip", type=float, default=0.0)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--minutes", type=float, default=0)
    t.add_argument("--steps", type=int, default=0)
    t.add_argument("--ckpt-minutes", type=float, default=5)
    t.add_argument("--ckpt-steps", type=lambda v: [int(x) for x in v.split(",")], default=None)
    s = sub.add_parser("sample")
    s.add_argument("--ckpt", required=True)
    s.add_argument("--n", type=int, default=1000)
    s.add_argument("--out")
    s.add_argument("--grid")
    s.add_argument("--flow", default="exact")
    s.add_argument("--levels", type=int, default=50)
    s.add_argument("--nsteps", type=int, default=2)
    s.add_argument("--eta", type=float, default=0.5)
    s.add_argument("--eta-schedule", default="constant")
    s.add_argument("--no-eta-norm", dest="eta_norm", action="store_false")
    s.add_argument("--sig2", type=float, default=0.5)
    s.add_argument("--spacing", default="uniform")
    s.add_argument("--tmin", type=float, default=1e-3)
    s.add_argument("--path", default=None)
    s.add_argument("--target", default=None)
    s.add_argument("--rho", type=float, default=None)
    s.add_argument("--t-start", type=float, default=1.0)
    s.add_argument("--coords", default="vp")
    s.add_argument("--vnorm", default="particle")
    s.add_argument("--ref-rho", type=float, default=0.0)
    s.add_argument("--yclip", action="store_true")
    s.add_argument("--cal", action="store_true")
    s.add_argument("--particles", type=int, default=250)
    s.add_argument("--embed-n", type=int, default=2000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--which", default="ema", help="weights to sample with: ema or net (the raw weights)")
    d = sub.add_parser("diag")
    d.add_argument("--ckpt", required=True)
    a = p.parse_args()
    {"train": train, "sample": sample, "diag": diag}[a.cmd](a)


if __name__ == "__main__":
    main()
