package sample_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/sample"
)

func TestScorerOrdersSamples(t *testing.T) {
	const dim = 16
	ref := newCloud(400, dim, 1)
	s, err := sample.NewScorer(ref, 200)
	if err != nil {
		t.Fatal(err)
	}
	if s.References() != 200 || !(s.Sigma() > 0) {
		t.Fatalf("references %d, sigma %v", s.References(), s.Sigma())
	}
	same := newCloudNoise(64, dim, 1, 99) // the same distribution, other draws
	collapsed := make([]float32, 64*dim)  // every sample in the first cluster
	for i := range 64 {
		copy(collapsed[i*dim:(i+1)*dim], same.x[(i%16)*4*dim:((i%16)*4+1)*dim])
	}
	rng := rand.New(rand.NewPCG(3, 3))
	noise := make([]float32, 64*dim)
	for i := range noise {
		noise[i] = float32(rng.NormFloat64())
	}
	score := func(name string, x []float32) float64 {
		v, err := s.Score(x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	sData, sColl, sNoise := score("data", same.x), score("collapsed", collapsed), score("noise", noise)
	t.Logf("sigma %.3g: data %.4g, one cluster %.4g, noise %.4g (baseline %.4g)", s.Sigma(), sData, sColl, sNoise, s.NoiseBaseline())
	if !(math.Abs(sData) < 0.02*sNoise && sData < sColl && sColl < sNoise) {
		t.Errorf("want data ~ 0 < one cluster < noise, got %.4g, %.4g, %.4g", sData, sColl, sNoise)
	}
	if math.Abs(sNoise-s.NoiseBaseline()) > 0.25*s.NoiseBaseline() { // two draws of 64 noise particles
		t.Errorf("noise scores %.4g, the baseline %.4g", sNoise, s.NoiseBaseline())
	}
	all, err := sample.NewScorer(ref, 1000)
	if err != nil || all.References() != 400 {
		t.Fatalf("n > Len: %v, %d references", err, all.References())
	}
}

func TestScorerErrors(t *testing.T) {
	flat, _ := data.NewU8(data.Shape{C: 1, H: 2, W: 2}, make([]uint8, 3*4), nil)
	one, _ := data.NewU8(data.Shape{C: 1, H: 2, W: 2}, make([]uint8, 4), nil)
	for _, tc := range []struct {
		name string
		ds   data.Dataset
		n    int
		want string
	}{
		{"nil dataset", nil, 10, "nil dataset"},
		{"one image", one, 10, "need at least 2"},
		{"n = 1", newCloud(10, 4, 1), 1, "need at least 2"},
		{"identical images", flat, 3, "all identical (3 images): no kernel width"},
	} {
		if _, err := sample.NewScorer(tc.ds, tc.n); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	s, err := sample.NewScorer(newCloud(50, 4, 1), 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		x    []float32
		want string
	}{
		{"empty", nil, "not 2 or more images"},
		{"one image", make([]float32, 4), "not 2 or more images"},
		{"ragged", make([]float32, 9), "not 2 or more images"},
		{"NaN", []float32{0, 0, 0, 0, 0, float32(math.NaN()), 0, 0}, "value 5"},
	} {
		if _, err := s.Score(tc.x); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestScorerMostlyDuplicates is the example: 11 references of which 8 are the same image, so the median
// distance is 0. The width falls back to the mean of the non-zero distances (it used to be an error that stopped
// training), and the score still tells the data from noise.
func TestScorerMostlyDuplicates(t *testing.T) {
	const dim = 4
	pix := make([]uint8, 11*dim)
	for i := 8; i < 11; i++ { // images 0-7 are all black; 8-10 differ
		for j := range dim {
			pix[i*dim+j] = uint8(60*(i-7) + 10*j)
		}
	}
	ds, err := data.NewU8(data.Shape{C: 1, H: 2, W: 2}, pix, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sample.NewScorer(ds, 500)
	if err != nil {
		t.Fatalf("NewScorer: %v", err)
	}
	// The non-zero distances: black to each of 8..10 (8 pairs each) and among 8..10.
	x := make([]float32, dim)
	rows := make([][]float32, 11)
	for i := range rows {
		ds.Image(i, x)
		rows[i] = append([]float32(nil), x...)
	}
	var sum float64
	var n int
	for i := range rows {
		for j := i + 1; j < len(rows); j++ {
			var d2 float64
			for k := range rows[i] {
				d := float64(rows[i][k]) - float64(rows[j][k])
				d2 += d * d
			}
			if d2 > 0 {
				sum += math.Sqrt(d2)
				n++
			}
		}
	}
	if want := sum / float64(n); math.Abs(s.Sigma()-want) > 1e-12*want || n != 3*8+3 {
		t.Errorf("sigma %v, want the mean of the %d non-zero distances %v", s.Sigma(), n, want)
	}
	if !strings.Contains(s.Note(), "28 of 55 pairs are identical") {
		t.Errorf("note %q", s.Note())
	}
	real := make([]float32, 0, 11*dim)
	for _, r := range rows {
		real = append(real, r...)
	}
	m, err := s.Score(real)
	if err != nil {
		t.Fatal(err)
	}
	if !(math.Abs(m) < s.NoiseBaseline()) {
		t.Errorf("the references themselves score %v, noise %v", m, s.NoiseBaseline())
	}
}
