package diffusion_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"

	"github.com/dmmd/dmmd/diffusion"
)

func ExampleSchedule_AlphaBeta() {
	s := diffusion.Default()
	for _, t := range []float64{s.TMin, 0.5, 1} {
		a, b := s.AlphaBeta(t)
		fmt.Printf("t=%.3f alpha=%.4f beta=%.4f\n", t, a, b)
	}
	// Output:
	// t=0.001 alpha=0.9999 beta=0.0105
	// t=0.500 alpha=0.2812 beta=0.9597
	// t=1.000 alpha=0.0066 beta=1.0000
}

func ExampleSchedule_Noise() {
	s := diffusion.Default()
	x0 := []float32{1, -1, 0.5}
	xt := make([]float32, len(x0))
	rng := rand.New(rand.NewPCG(1, 1))
	if err := s.Noise(xt, x0, s.TMin, rng); err != nil {
		fmt.Println(err)
		return
	}
	// At t_min the noisy image is within a few beta_t = 0.01 of the clean one.
	for i := range xt {
		fmt.Printf("%.1f ", xt[i])
	}
	fmt.Println()
	// Output: 1.0 -1.0 0.5
}

func ExampleLevels() {
	lv, _ := diffusion.Levels(5, 1, 0.2, diffusion.Quadratic)
	fmt.Println(lv)
	// Output: [1 0.65 0.4 0.25 0.2]
}

// TDist is a text value: flag.TextVar parses it and JSON writes its flag spelling.
func ExampleTDist_UnmarshalText() {
	var d diffusion.TDist
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.TextVar(&d, "tdist", diffusion.TQuad, "training level distribution")
	fs.Parse([]string{"-tdist", "uniform"})
	js, _ := json.Marshal(struct {
		TDist diffusion.TDist `json:"t_dist"`
	}{d})
	fmt.Println(d, string(js))
	// Output: uniform {"t_dist":"uniform"}
}
