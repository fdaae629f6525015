// Package sample turns a trained noise-conditional critic phi(z; t) into images with the DMMD gradient flow
// (Galashov, De Bortoli, Gretton, ICLR 2025), and writes them out as grids and as FID-ready image folders.
//
// The flow starts particles Z ~ N(0, I) and walks a descending level grid t_max = t_1 > ... > t_T = t_min. At each
// level t_k it takes N_s steps
//
//	Z <- Z + eta_k * grad_Z <phi(Z; t_k), m_P[k] - m_Q[k]>,
//
// where m_P[k] is the mean feature of the training data at level t_k (precomputed by ComputeEmbeddings) and m_Q[k]
// is either the leave-one-out mean feature of the other particles of the same flow group (Exact, the default) or
// the mean feature of forward-noised training data (Approx, which makes the particles independent).
//
// # Reference ratio
//
// A critic trained with a reference ratio rho > 0 (train.Config.RefRatio) separates P_t from the data noised to the
// reference level r = rho t, not from the clean data. Its m_P[k] is then the mean feature of the data noised to
// rho t_k (EmbedOptions.RefRatio, Embeddings.RefRatio); Options.RefRatio must be the critic's, and NewFlow refuses
// embeddings taken at another ratio.
//
// # The DDIM update
//
// Options.Update selects how a step moves a particle. Euler (the default) is the step above. DDIM, the
// VP-consistent witness-direction step (research note, issue 10), uses only the direction d = g/||g|| of each
// particle's witness gradient g (read at the noise-injected point when Noise > 0) and takes the step's length from
// the VP schedule u_t = alpha_t y + beta_t eps. Level k is covered by N_s sub-steps from a to b that cut
// [t_{k+1}, t_k] (t_{T+1} = 0 after the last level) into equal pieces; the critic is evaluated at t_k. With
// r = rho a, (alpha_0, beta_0) = (1, 0), D values per particle and MeanSq the data's mean of y^2 (Embeddings.MeanSq):
//
//	L      = Eta sqrt(D ((alpha_r - alpha_a)^2 MeanSq + (beta_r - beta_a)^2))
//	det    = alpha_a (beta_r - beta_a) - beta_a (alpha_r - alpha_a)
//	yhat   = ((beta_r - beta_a) u - beta_a L d) / det     (clamped to [-1, 1] with X0Clip)
//	epshat = (u - alpha_a yhat) / beta_a
//	u     <- alpha_b yhat + beta_b epshat                 (= yhat at b = 0)
//
// L is the expected distance from u to its reference point alpha_r y + beta_r eps; yhat is the clean image implied
// by "u is alpha_a y + beta_a eps, and u + L d is alpha_r y + beta_r eps"; with rho = 0 it is u + L d. A particle
// whose gradient is exactly 0 takes d = 0 and no X0Clip: it is only rescaled. Eta (default 1, DefaultOptionsFor)
// scales L; EtaSchedule and EtaNorm do not apply. Clip still clamps at the end (or after every sub-step).
// DDIMNoise nu in [0, 1] makes the sub-steps stochastic (DDIM's eta, Song et al. 2021, eq. 16):
// u <- alpha_b yhat + sqrt(beta_b^2 - sigma^2) epshat + sigma xi, sigma = nu (beta_b/beta_a) sqrt(1 - alpha_a^2/alpha_b^2),
// xi ~ N(0, I) from the particle's own stream for (level, sub-step); 0 is the deterministic step, 1 the ancestral
// one. The update is per particle, so determinism, chunk independence and sharding hold as for Euler.
//
// Everything is deterministic: particle j starts from its own seeded random stream, noise-injection draws depend only
// on (j, level, step), and every sum that couples particles is taken in float64 in index order. The same critic,
// options and seed therefore give the same particles byte for byte, whatever Options.Chunk is and however the work is
// sharded (see Shard). Particles are processed in flow groups of Options.Particles consecutive indices; a group is
// the unit of interaction (Exact), of step normalisation (EtaNorm), of resume and of sharding.
//
// The network itself is hidden behind the Critic interface; the package never imports the model.
package sample
