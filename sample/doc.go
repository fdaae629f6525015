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
// Everything is deterministic: particle j starts from its own seeded random stream, noise-injection draws depend only
// on (j, level, step), and every sum that couples particles is taken in float64 in index order. The same critic,
// options and seed therefore give the same particles byte for byte, whatever Options.Chunk is and however the work is
// sharded (see Shard). Particles are processed in flow groups of Options.Particles consecutive indices; a group is
// the unit of interaction (Exact), of step normalisation (EtaNorm), of resume and of sharding.
//
// The network itself is hidden behind the Critic interface; the package never imports the model.
package sample
