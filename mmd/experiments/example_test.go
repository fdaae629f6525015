package experiments_test

import (
	"fmt"

	"github.com/dmmd/dmmd/mmd"
	"github.com/dmmd/dmmd/mmd/experiments"
)

func ExampleRunToy() {
	c := experiments.DefaultToy() // ring of 8 Gaussians, particles started at (3, 3)
	c.Targets, c.Particles, c.Steps, c.GIFFrames = 100, 100, 200, 0
	s, err := experiments.RunToy(c)
	if err != nil {
		panic(err)
	}
	fmt.Printf("MMD^2 %.3f at the start, after %d steps %.3f with noise and %.3f without\n",
		s.InitialMMD2, c.Steps, s.WithNoise.FinalMMD2, s.WithoutNoise.FinalMMD2)
	// Output: MMD^2 0.881 at the start, after 200 steps 0.070 with noise and 0.064 without
}

func ExampleCompareStudentTeacher() {
	c := experiments.DefaultStudentTeacher()
	c.Dim, c.Particles, c.Train, c.Valid, c.Batch, c.Epochs = 5, 20, 100, 100, 10, 200
	c.StepSize, c.Noise, c.EvalEvery = 1, mmd.HalvingNoise(1, 40), 100
	s, err := experiments.CompareStudentTeacher(c, []uint64{1}, nil)
	if err != nil {
		panic(err)
	}
	r := s.WithNoise[0]
	fmt.Printf("evaluated at epochs %v\n", r.Epochs)
	fmt.Printf("validation loss %.2e with noise, %.2e without\n", s.MeanFinalNoise, s.MeanFinalNoNoise)
	// Output:
	// evaluated at epochs [0 100 200]
	// validation loss 8.22e-04 with noise, 9.49e-04 without
}
