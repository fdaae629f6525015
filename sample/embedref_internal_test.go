package sample

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/diffusion"
)

// tanhCritic is a small deterministic feature map: phi_k(z; t) = tanh((1 + t) sum_j W_kj z_j).
type tanhCritic struct{ dim, d int }

func (c tanhCritic) Shape() (int, int, int) { return 1, 1, c.dim }
func (c tanhCritic) FeatureDim() int        { return c.d }
func (c tanhCritic) Features(z []float32, t float64, out []float32) error {
	for i := range len(z) / c.dim {
		for k := range c.d {
			var a float64
			for j, v := range z[i*c.dim : (i+1)*c.dim] {
				a += math.Sin(float64(3*k+j+1)) * float64(v)
			}
			out[i*c.d+k] = float32(math.Tanh((1 + t) * a))
		}
	}
	return nil
}
func (c tanhCritic) WitnessGrad(z []float32, t float64, dirs, out []float32) error {
	clear(out)
	return nil
}

// rampData is n images of dim values in [-1, 1].
type rampData struct{ n, dim int }

func (r rampData) Len() int          { return r.n }
func (r rampData) Shape() data.Shape { return data.Shape{C: 1, H: 1, W: r.dim} }
func (r rampData) Image(i int, dst []float32) {
	for j := range dst {
		dst[j] = float32(math.Sin(float64(7*i+3*j) + 0.5))
	}
}

// TestEmbeddingsAtReferenceLevel: with rho > 0, m_P is the mean feature of the images noised to rho t_k with the
// noise of stream (Seed, domainEmbedRef, image<<32 | k): a plain loop over the images with that stream gives the
// same values bit for bit, whatever the batch size; m_N is unchanged by rho; and MeanSq is the data's mean square
// (MeanSquare), the same bits.
func TestEmbeddingsAtReferenceLevel(t *testing.T) {
	const dim, D, M = 5, 7, 13
	c := tanhCritic{dim, D}
	ds := rampData{20, dim}
	levels := []float64{1, 0.4, 0.05}
	sched := diffusion.Default()
	plain := func(rho float64, seed uint64) [][]float64 {
		st := newStreams()
		out := make([][]float64, len(levels))
		x, feat := make([]float32, dim), make([]float32, D)
		for k, tk := range levels {
			out[k] = make([]float64, D)
			ar, br := sched.AlphaBeta(rho * tk)
			for i := range M {
				ds.Image(i, x)
				if rho > 0 {
					rng := st.at(seed, domainEmbedRef, uint64(i)<<32|uint64(k))
					for j := range x {
						x[j] = float32(ar*float64(x[j]) + br*rng.NormFloat64())
					}
				}
				c.Features(x, tk, feat)
				for j, v := range feat {
					out[k][j] += float64(v)
				}
			}
			for j := range out[k] {
				out[k][j] *= 1 / float64(M) // as ComputeEmbeddings scales
			}
		}
		return out
	}
	base, err := ComputeEmbeddings(c, ds, levels, EmbedOptions{M: M, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	want, err := MeanSquare(ds, M)
	if err != nil {
		t.Fatal(err)
	}
	if base.MeanSq != want || !(want > 0.3 && want < 0.7) {
		t.Errorf("MeanSq %v, MeanSquare %v (sin^2 averages about 0.5)", base.MeanSq, want)
	}
	for _, rho := range []float64{0, 0.3, 0.8} {
		for _, batch := range []int{1, 4, 13} {
			e, err := ComputeEmbeddings(c, ds, levels, EmbedOptions{M: M, Batch: batch, Seed: 4, RefRatio: rho})
			if err != nil {
				t.Fatal(err)
			}
			ref := plain(rho, 4)
			for k := range levels {
				for j := range D {
					if e.MP[k][j] != ref[k][j] {
						t.Fatalf("rho %v batch %d: MP[%d][%d] = %v, plain loop %v", rho, batch, k, j, e.MP[k][j], ref[k][j])
					}
					if e.MN[k][j] != base.MN[k][j] {
						t.Fatalf("rho %v changed MN", rho)
					}
				}
			}
			if e.RefRatio != rho || e.MeanSq != want || !e.Matches(levels, M, 4, rho) || (rho > 0 && e.Matches(levels, M, 4, 0)) {
				t.Errorf("rho %v: RefRatio %v, MeanSq %v, Matches wrong", rho, e.RefRatio, e.MeanSq)
			}
		}
	}
	// With rho > 0 the seed changes m_P; the reference noise is not m_N's.
	a, _ := ComputeEmbeddings(c, ds, levels, EmbedOptions{M: M, Seed: 4, RefRatio: 0.5})
	b, _ := ComputeEmbeddings(c, ds, levels, EmbedOptions{M: M, Seed: 5, RefRatio: 0.5})
	if a.MP[0][0] == b.MP[0][0] {
		t.Error("the seed does not change m_P at rho 0.5")
	}
	for _, bad := range []float64{-0.1, 1, math.NaN()} {
		if _, err := ComputeEmbeddings(c, ds, levels, EmbedOptions{RefRatio: bad}); err == nil ||
			!strings.HasPrefix(err.Error(), "sample: ") {
			t.Errorf("rho %v: %v", bad, err)
		}
	}
	if _, err := MeanSquare(nil, 0); err == nil {
		t.Error("MeanSquare(nil) succeeded")
	}
	if all, _ := MeanSquare(ds, 0); all == want {
		t.Error("MeanSquare(ds, 0) averaged only the first 13 images")
	}
}

// TestEmbeddingsFileRefRatio: the reference ratio and the mean square survive a round trip; a file written before
// they existed (no such metadata) loads as rho = 0 with MeanSq = 0 (not recorded); other ratios get other names.
func TestEmbeddingsFileRefRatio(t *testing.T) {
	levels := []float64{1, 0.5}
	src := EmbeddingsSource{Step: 10, Checkpoint: "sha256:aa", Data: "d"}
	dir := t.TempDir()
	names := map[string]float64{}
	for _, rho := range []float64{0, 0.5, 0.8} {
		p := EmbeddingsPath(dir, levels, 100, 7, rho, src)
		if r, ok := names[p]; ok {
			t.Errorf("rho %v and %v share the file name %s", r, rho, p)
		}
		names[p] = rho
		e, err := NewEmbeddings(levels, 100, 7, 2, []float64{1, 2, 3, 4}, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.RefRatio, e.MeanSq = rho, 0.812
		if err := SaveEmbeddings(p, e, src); err != nil {
			t.Fatal(err)
		}
		got, _, err := LoadEmbeddings(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.RefRatio != rho || got.MeanSq != 0.812 || !got.Matches(levels, 100, 7, rho) {
			t.Errorf("rho %v: loaded RefRatio %v MeanSq %v", rho, got.RefRatio, got.MeanSq)
		}
	}
	// An older file: the metadata of the version before the reference ratio.
	w := checkpoints.NewWriter()
	w.AddF64("m_p", []int{2, 2}, []float64{1, 2, 3, 4})
	for k, v := range map[string]string{metaEmbedStep: "10", metaEmbedCheckpoint: "sha256:aa", metaEmbedData: "d",
		metaEmbedLevels: "[1,0.5]", metaEmbedM: "100", metaEmbedSeed: "7"} {
		w.SetMeta(k, v)
	}
	old := filepath.Join(dir, "old.safetensors")
	if err := w.WriteFile(old); err != nil {
		t.Fatal(err)
	}
	e, gotSrc, err := LoadEmbeddings(old)
	if err != nil {
		t.Fatal(err)
	}
	if e.RefRatio != 0 || e.MeanSq != 0 || gotSrc != src || !e.Matches(levels, 100, 7, 0) {
		t.Errorf("older file: RefRatio %v, MeanSq %v, source %+v", e.RefRatio, e.MeanSq, gotSrc)
	}
	// A damaged value is an error naming the file and the key.
	w.SetMeta(metaEmbedRefRatio, "half")
	if err := w.WriteFile(old); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadEmbeddings(old); err == nil || !strings.Contains(err.Error(), metaEmbedRefRatio) {
		t.Errorf("bad ratio: %v", err)
	}
	w.SetMeta(metaEmbedRefRatio, "1.5")
	w.WriteFile(old)
	if _, _, err := LoadEmbeddings(old); err == nil || !strings.Contains(err.Error(), "old.safetensors") {
		t.Errorf("ratio 1.5: %v", err)
	}
}
