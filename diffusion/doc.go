// Package diffusion holds the variance-preserving (VP) forward path that DMMD trains and samples along.
//
// Clean data x0 in [-1, 1] is noised as x_t = alpha_t x0 + beta_t eps with eps ~ N(0, I) and t in [TMin, 1].
// With the score_sde VP constants (BetaMin 0.1, BetaMax 20, TMin 1e-3):
//
//	alpha_t = exp(-t^2 (BetaMax-BetaMin)/4 - t BetaMin/2),   beta_t = sqrt(1 - alpha_t^2).
//
// The package also draws training levels t (uniform, or "quad": t = TMin + (1-TMin) u^2, which favours low noise)
// and builds the descending level grids the sampler walks (uniform or quadratic spacing).
// Everything writes into caller-owned buffers and draws from a caller-owned *rand.Rand, so runs are reproducible and
// resumable.
package diffusion
