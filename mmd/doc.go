// Package mmd implements the kernel maximum mean discrepancy (MMD) on vectors
// and the MMD gradient flow of Arbel, Korba, Salim and Gretton ("Maximum Mean
// Discrepancy Gradient Flow", NeurIPS 2019), with noise injection, plus the
// adaptive kernel width of Galashov, De Bortoli and Gretton ("Deep MMD
// Gradient Flow without adversarial training", ICLR 2025).
//
// # Conventions
//
// A sample set is a [Points] value: n points in R^d stored row-major. P is the
// target (data, M points y_j) and Q the current distribution (particles, N
// points x_i). With a kernel k,
//
//	MMD^2(P, Q) = E k(y, y') + E k(x, x') - 2 E k(y, x).
//
// [MMD2Biased] is the V-statistic (all pairs, including i = j) and
// [MMD2Unbiased] the U-statistic (i != j within each sample).
//
// The witness of P against Q is, as in the rest of this project,
//
//	f(z) = (1/M) sum_j k(y_j, z) - (1/N) sum_i k(x_i, z),
//
// large where the data are. Each mean is normalised by its own count. The
// first variation of F(Q) = MMD^2(P, Q)/2 is -f, so the forward-Euler MMD
// gradient flow of the seed talk, Z <- Z - gamma grad F'(Z + beta u), reads
//
//	Z_{n+1} = Z_n + gamma grad f(Z_n + beta_n u_n),  u_n ~ N(0, I),
//
// and is implemented by [Flow]; beta_n comes from a [NoiseSchedule] and the
// particle itself receives no noise. Without noise this is gradient descent
// with step gamma*N on MMD_V^2/2 as a function of the particle positions.
//
// Estimators, witness gradients and flow steps run in parallel over
// GOMAXPROCS goroutines for large sample sets; partial sums are reduced in a
// fixed order, so results do not depend on the number of cores. From
// dimension 8 they go through matrix products; the squared distances are then
// expanded as ||x||^2 + ||y||^2 - 2 x.y on data centred on their common mean,
// so they stay as accurate as the pairwise loops for data far from the origin
// (tested at a common offset of 1e8).
//
// Errors returned by this package start with "mmd: " and wrap one of the
// sentinel errors ([ErrDim], [ErrEmpty], [ErrParam], [ErrNonFinite]) where
// they apply. Every sample set given to an estimator, a witness or a flow must
// be finite: a NaN or an infinity is an error naming the set, the point and
// the coordinate, never a NaN result.
package mmd
