package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/mmd"
)

// Scorer measures how close samples are to the data: the unbiased MMD^2 in pixel space, with a Gaussian kernel,
// between the samples and a fixed reference set of data images. The kernel width is the median distance between
// reference images (the median heuristic). Lower is better; real images score about 0, and NoiseBaseline gives
// what the flow's starting point, N(0, I) noise, scores. It is a cheap, monotone signal for picking checkpoints
// and sampler settings, not a replacement for FID.
type Scorer struct {
	ref   mmd.Points
	k     mmd.Gaussian
	shape data.Shape
	noise float64
	note  string
}

// NewScorer takes n reference images from ds, a fixed random subset (all of them when n >= ds.Len()), n >= 2.
// The kernel width is the median distance between the first 200 of them; when at least half of those pairs are
// identical images (a median of 0) it is the mean of the non-zero distances instead, and Note says so. A set
// whose images are all identical has no scale: NewScorer returns an error wrapping ErrIdenticalReferences.
func NewScorer(ds data.Dataset, n int) (*Scorer, error) {
	if ds == nil {
		return nil, fmt.Errorf("sample: scorer: nil dataset")
	}
	if n > ds.Len() {
		n = ds.Len()
	}
	if n < 2 {
		return nil, fmt.Errorf("sample: scorer: %d reference images (dataset of %d), need at least 2", n, ds.Len())
	}
	shape := ds.Shape()
	dim := shape.Size()
	ref, err := mmd.NewPoints(n, dim)
	if err != nil {
		return nil, fmt.Errorf("sample: scorer: %w", err)
	}
	// A fixed random subset: evenly spaced indices would alias with any periodic order of the data.
	idx := rand.New(rand.NewPCG(0x5C0E, 1)).Perm(ds.Len())[:n]
	slices.Sort(idx)
	buf := make([]float32, dim)
	for i, k := range idx {
		ds.Image(k, buf)
		row := ref.Row(i)
		for j, v := range buf {
			row[j] = float64(v)
		}
	}
	sigma, note, err := scoreWidth(ref, 200)
	if err != nil {
		return nil, err
	}
	s := &Scorer{ref: ref, k: mmd.Gaussian{Sigma: sigma}, shape: shape, note: note}
	// The baseline: 64 N(0, I) particles from a fixed stream.
	noise, _ := mmd.NewPoints(64, dim)
	rng := rand.New(rand.NewPCG(0x5C0E, 0))
	for i := range noise.Data {
		noise.Data[i] = rng.NormFloat64()
	}
	if s.noise, err = mmd.MMD2Unbiased(s.k, noise, ref); err != nil {
		return nil, fmt.Errorf("sample: scorer: %w", err)
	}
	return s, nil
}

// Sigma is the kernel width.
func (s *Scorer) Sigma() float64 { return s.k.Sigma }

// Note is "" when Sigma is the median distance, and otherwise says why it is not (the fallback of NewScorer).
func (s *Scorer) Note() string { return s.note }

// ErrIdenticalReferences is wrapped by NewScorer's error when every reference image is the same image.
var ErrIdenticalReferences = errors.New("the reference images are all identical")

// scoreWidth returns the median distance between distinct pairs of the first n points of ref or, when that is 0
// (at least half the pairs are duplicates), the mean of the non-zero distances, with a note saying so.
func scoreWidth(ref mmd.Points, n int) (sigma float64, note string, err error) {
	n = min(n, ref.Len())
	dist := make([]float64, 0, n*(n-1)/2)
	var sum float64
	var nonZero int
	for i := range n {
		for j := i + 1; j < n; j++ {
			a, b := ref.Row(i), ref.Row(j)
			var d2 float64
			for k := range a {
				d := a[k] - b[k]
				d2 += d * d
			}
			d := math.Sqrt(d2)
			dist = append(dist, d)
			if d > 0 {
				sum += d
				nonZero++
			}
		}
	}
	slices.Sort(dist)
	if med := dist[len(dist)/2]; med > 0 {
		return med, "", nil
	}
	if nonZero == 0 {
		return 0, "", fmt.Errorf("sample: scorer: %w (%d images): no kernel width, so no score", ErrIdenticalReferences, n)
	}
	sigma = sum / float64(nonZero)
	note = fmt.Sprintf("the median distance between the %d reference images is 0 (%d of %d pairs are identical "+
		"images); the kernel width is the mean of the non-zero distances, %.4g", n, len(dist)-nonZero, len(dist), sigma)
	return sigma, note, nil
}

// References is the number of reference images.
func (s *Scorer) References() int { return s.ref.Len() }

// NoiseBaseline is the score of 64 N(0, I) particles: the flow's starting point.
func (s *Scorer) NoiseBaseline() float64 { return s.noise }

// Score returns the MMD^2 between the samples x (images of the reference shape, laid out one after the other, at
// least 2) and the reference images.
func (s *Scorer) Score(x []float32) (float64, error) {
	dim := s.shape.Size()
	if len(x) == 0 || len(x)%dim != 0 || len(x)/dim < 2 {
		return 0, fmt.Errorf("sample: score: %d values are not 2 or more images of %dx%dx%d", len(x), s.shape.C, s.shape.H, s.shape.W)
	}
	p, err := mmd.NewPoints(len(x)/dim, dim)
	if err != nil {
		return 0, fmt.Errorf("sample: score: %w", err)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("sample: score: value %d of the samples is %v", i, v)
		}
		p.Data[i] = float64(v)
	}
	m, err := mmd.MMD2Unbiased(s.k, p, s.ref)
	if err != nil {
		return 0, fmt.Errorf("sample: score: %w", err)
	}
	return m, nil
}
