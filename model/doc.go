// Package model is the DMMD feature network phi(x; t, theta), its linear-kernel MMD critic loss with the gradient
// penalty, the sampler's witness gradient, Adam and the EMA. Only model and its internal packages import Gorgonia.
//
// # Network
//
// phi maps an image x (C x S x S, values in [-1, 1]) and a noise level t in [0, 1] to D features. The kernel at level
// t is k_t(x, y) = <phi(x; t), phi(y; t)>.
//
//	e      = sinusoidal(1000 t)                       (TimeEmbed values: sin(s w_k), then cos(s w_k), w_k = 10000^(-k/(half-1)))
//	tau    = silu(fc2(silu(fc1(e))))                  (TimeHidden values; feeds every block's per-channel time bias)
//	h      = stem(x)                                  (3x3 conv, stride StemStride, padding 1, Channels -> Widths[0])
//	for each level l:
//	  ResBlocks times:  h = h + conv2(silu(conv1(silu(h)) + temb(tau)))        (3x3, stride 1, padding 1)
//	  unless last:      h = down.conv(silu(h)) + down.temb(tau) + down.skip(h)  (3x3 stride 2 pad 1; skip 1x1 stride 2)
//	phi    = head(pool(silu(h)))                      (pool: flatten, or the spatial mean; head: linear to D, or
//	                                                   with HeadHidden > 0 linear, SiLU, linear)
//
// Each block is one type in one file that declares its tensors, builds its forward graph and its input-VJP:
// time_mlp.go, stem.go, res_block.go, down_block.go and head.go; network.go lists them (block.go: the interface).
//
// Every conv and linear layer has a bias except the time projections (temb), which are added to the bias of the
// conv they follow. There is no normalisation layer (the penalty needs second derivatives, and the sampler runs on
// particle batches) and SiLU is the only nonlinearity, so phi is smooth in x and theta.
//
// Presets (Preset): "tiny" (tests: widths 4, 8; one res block per level; D 8), "small" (the CPU default for 32x32:
// a 3->64->128->256 encoder: stride-2 stem, two residual down blocks, no extra res blocks, D 512, about 2.6 M
// parameters at 32x32x3), "medium" (small with a full-resolution first level: stride-1 stem, widths 32, 64, 128,
// 256; about 1.5x small's multiply-adds), "narrow" (small at half the width: 3->32->64->128, D 256; about a quarter
// of its multiply-adds, for time-limited CPU runs), and "base" (widths 128, 256, 256, 256, one res block per level, D 512).
//
// # Parameter tensors
//
// Params holds the tensors in this order, named like a PyTorch state_dict, row-major (C order), dtype per Config
// (the table is generated from the blocks' declarations):
//
//	<!-- generated: model parameters (DMMD_UPDATE_DOCS=1 go test ./model -run ParameterTable) -->
//	time.fc1.weight                 (TimeHidden, TimeEmbed)   y = x W^T + b, as torch.nn.Linear
//	time.fc1.bias                   (TimeHidden)
//	time.fc2.weight                 (TimeHidden, TimeHidden)
//	time.fc2.bias                   (TimeHidden)
//	stem.weight                     (Widths[0], Channels, 3, 3)  (out, in, kh, kw), as torch.nn.Conv2d
//	stem.bias                       (Widths[0])
//	levels.L.res.R.conv1.weight     (W, W, 3, 3)              W = Widths[L]; for R in [0, ResBlocks)
//	levels.L.res.R.conv1.bias       (W)
//	levels.L.res.R.temb.weight      (W, TimeHidden)           no bias
//	levels.L.res.R.conv2.weight     (W, W, 3, 3)
//	levels.L.res.R.conv2.bias       (W)
//	levels.L.down.conv.weight       (W', W, 3, 3)             W' = Widths[L+1]; for every level but the last
//	levels.L.down.conv.bias         (W')
//	levels.L.down.temb.weight       (W', TimeHidden)          no bias
//	levels.L.down.skip.weight       (W', W, 1, 1)
//	levels.L.down.skip.bias         (W')
//	head.hidden.weight              (HeadHidden, F)           F = Widths[last] * S_last^2 (flatten, C-major:
//	                                                           index c*S^2 + i*S + j) or Widths[last] (mean)
//	                                                          only with HeadHidden > 0
//	head.hidden.bias                (HeadHidden)
//	head.weight                     (FeatureDim, HeadHidden)  (FeatureDim, F) when HeadHidden = 0
//	head.bias                       (FeatureDim)
//	<!-- end generated: model parameters -->
//
// Within a residual block the order of operations is: u1 = silu(h); a1 = conv1(u1) + conv1.bias + temb(tau);
// u2 = silu(a1); h' = h + conv2(u2) + conv2.bias. In a down block: a = down.conv(silu(h)) + down.conv.bias +
// down.temb(tau); h' = a + down.skip(h) + down.skip.bias. Spatial sizes follow (S - 1)/stride + 1 (integer
// division). Config.Specs lists the exact names and shapes for any configuration.
//
// # Loss
//
// For a noisy batch x_t (features a_i) and an independent clean batch y (features b_j) at one level t, with
// B rows each, TrainStep computes, with the default options,
//
//	MMD_u^2 = (||sum a||^2 - sum ||a_i||^2 + ||sum b||^2 - sum ||b_j||^2) / (B(B-1)) - 2 <sum a, sum b> / B^2
//	c       = mean b - mean a,   f_t(z) = <phi(z; t), c>      (the witness; c depends on theta too)
//	F_l2    = mean of f_t^2 over both batches
//	F_grad  = mean_i (||grad_z f_t(z_i)|| - 1)^2     z_i = x_t^i (PenaltyAt "xt", the seed's choice) or
//	                                                 z_i = u_i x_t^i + (1-u_i) y^i (PenaltyAt "interp", WGAN-GP)
//	loss    = -MMD_u^2 + LambdaL2 F_l2 + LambdaGrad F_grad
//
// and its exact gradient with respect to every parameter. With interpolates, the caller draws the points (RunAt,
// RunLevels) and the graph runs one more forward pass there; the trainer uses interpolates by default (see the
// README).
//
// LossConfig selects variants (issue 10; each is recorded in checkpoints, and its zero value is the default above):
//
//	MMD "unbiased"   MMD_u^2 above (also "")
//	MMD "biased"     MMD_b^2 = ||mean a - mean b||^2 = ||c||^2 (the V-statistic; it keeps the i = j terms)
//	MMD "paired"     for rows that are pairs (row i of y the partner of row i of x_t: the trainer's -mmd paired
//	                 gives the same image and noise at two levels): with d_i = b_i - a_i,
//	                 MMD_p^2 = (||sum d||^2 - sum ||d_i||^2) / (B(B-1)), the mean of <d_i, d_j> over i != j,
//	                 unbiased for pairs; each pair's term is <d_i, c_-i>, about grad f(x_i) . (y_i - x_i)
//	L2 "witness"     F_l2 = (sum_i f(a_i)^2 + sum_j f(b_j)^2) / (2B) (also "")
//	L2 "set-means"   F_l2 = ((mean_i f(a_i))^2 + (mean_j f(b_j))^2) / 2 = (<mean a, c>^2 + <mean b, c>^2) / 2:
//	                 bounds the witness's offset and scale without shrinking its variance within each set
//	L2 "features"    F_l2 = (sum_i ||a_i||^2 + sum_j ||b_j||^2) / (2B): the l2 on the features themselves
//	Groups G > 1     the batch of B per side is G equal groups of m = B/G consecutive rows (m >= 2), group g at its
//	                 own level t_g (RunLevels): phi of group g's images is conditioned on t_g, and group g has its
//	                 own MMD_g^2 (on m rows), c_g, witness f_g (in F_l2 and at its own penalty points in F_grad);
//	                 loss = mean over g of (-MMD_g^2 + LambdaL2 F_l2,g + LambdaGrad F_grad,g), and Stats are the
//	                 means over groups. G = 0 or 1 is the single-level loss (Run, RunAt).
//	LevelWeights     with G > 1, each group's three terms are multiplied by a weight w_g > 0 set before the run
//	                 (TrainStep.SetLevelWeights; 1 until set): loss = mean over g of w_g (-MMD_g^2 + ...), the
//	                 level weighting lambda(t) of diffusion training (Song et al. 2021, eq. 7); Stats are the
//	                 weighted means (GradNorm is not weighted). The weights enter as inputs (w_g repeated over
//	                 each sum's rows) through the elementwise product.
//
// Why (the hypothesis of issue 10 and ../shared/notes/dmmd.md, not a measured result): with the linear kernel
// MMD_u^2 = MMD_b^2 - (tr Cov(a) + tr Cov(b))/(B-1) (population covariances), and the witness l2 term contains the
// witness's variance within each set, so both reward features that collapse within each set. Groups put several
// levels into one step ("a batch may be split into groups that share a t", ../shared/notes/dmmd.md).
//
// With groups the network runs the time MLP on a (G, TimeEmbed) input, giving (G, TimeHidden), and each block's
// time projection is a (G, C) bias whose row g is added to the images of group g (addBias with a grouped bias;
// its gradient sums each group's rows). Per-group sums of feature rows and the repetition of c_g over its group's
// rows are a grouped row sum and its adjoint, a row repeat; per-row witness values use an elementwise product.
// With one group the graph is the original one, node for node, and its loss and gradient are bit for bit those of
// before the variants existed (TestTrainStepGolden, on the architecture and matrix kernel the hashes were
// recorded with).
//
// # The gradient penalty: explicit input-VJP, one reverse pass
//
// Gorgonia v0.9.18 cannot differentiate a gradient (../shared/notes/gorgonia.md: cached derivatives, col2im
// without a derivative of its own, and swapped operands in the outer-product derivative). This package never asks
// it to. grad_z f_t is built as ordinary forward graph nodes (the backward pass of phi written out by hand:
// transposed convolutions, the SiLU derivative, transposed matmuls, seeded with c), and Gorgonia's Grad is called
// once on the whole loss. Every op in that graph is one of the custom ops of model/internal/ops (conv, its input
// and weight adjoints, matmul with transpose flags, bias add (shared or per group), SiLU and its first two
// derivatives, grouped row sums and row repeats, the elementwise product, spatial mean) whose symbolic derivative is
// expressed in the same set, or a Gorgonia op verified there against
// plain loops (Add, Sub, Mul by a scalar constant, Square, Sqrt, Sum, Sum along axis 1 of a matrix, Mean,
// Reshape). Gorgonia's own Conv2d, pooling and 4-D reductions are not used.
//
// This penalty is exact: the float64 finite-difference test of the full loss (all three terms, each term on its
// own too, and every LossConfig variant: biased and paired MMD, each l2 term, interpolates, 2 to 4 groups, level weights) over every
// parameter tensor of the tiny preset at 8x8 and 16x16, 1 and 3 channels, agrees to a worst relative error of 2e-6
// (typically 1e-7, which is the finite-difference error itself). The alternative, a
// finite-difference directional penalty, was not built: the notes measured it at 3e-7 (float64) to 1e-4 (float32)
// relative error and about 1.5x the cost of the exact version, so it loses on both counts. The cost of the exact
// penalty is one extra forward-sized pass (the VJP) and its reverse pass; see the README for the measured step
// times.
//
// # Compiled graphs
//
// NewTrainStep, NewFeatures and NewWitness each compile one graph for a fixed batch size. Graphs read the Params
// tensors in place, so Adam and EMA updates are seen by every graph at its next run, and each op reuses its output
// and scratch buffers from run to run (a training step allocates a few MB of Gorgonia bookkeeping, not its
// activations). Results do not depend on the batch a particle is computed in (tested bit for bit).
//
// Convolutions are matrix products (model/internal/gemm). With the float32 micro-kernels (AVX-512 8x32 or
// AVX2/FMA 6x16, pure Go build) the convolution and its weight gradient read the input's patches while packing
// (no im2col matrix) and read and write the (B, C, H, W) activations in place; elsewhere (float64, -tags purego,
// CPUs without AVX2, -tags openblas for OpenBLAS through cgo) they are im2col + GEMM with explicit transposes,
// the patch matrix shared between a convolution and its weight gradient within a run.
package model
