package sample

import (
	"fmt"

	"github.com/dmmd/dmmd/data"
)

// Critic is what the flow needs from a trained noise-conditional feature network phi(z; t).
type Critic interface {
	// Shape is the particle (image) shape; Dim = c*h*w.
	Shape() (c, h, w int)
	// FeatureDim is D, the number of features.
	FeatureDim() int
	// Features writes phi(z_i; t) for the n = len(z)/Dim particles into out (n*D, row-major).
	Features(z []float32, t float64, out []float32) error
	// WitnessGrad writes grad_{z_i} <phi(z_i; t), dir_i> into out (n*Dim), where dirs has length D (one direction
	// shared by all particles) or n*D (one per particle). phi's input gradient only: dirs are constants.
	WitnessGrad(z []float32, t float64, dirs []float32, out []float32) error
}

// CriticShape returns the critic's particle shape.
func CriticShape(c Critic) data.Shape {
	ch, h, w := c.Shape()
	return data.Shape{C: ch, H: h, W: w}
}

// checkCritic validates what the flow and the embeddings rely on.
func checkCritic(c Critic) (data.Shape, int, error) {
	if c == nil {
		return data.Shape{}, 0, fmt.Errorf("sample: nil critic")
	}
	s := CriticShape(c)
	if s.C < 1 || s.H < 1 || s.W < 1 {
		return data.Shape{}, 0, fmt.Errorf("sample: critic shape %v is empty", s)
	}
	d := c.FeatureDim()
	if d < 1 {
		return data.Shape{}, 0, fmt.Errorf("sample: critic feature dimension %d, want >= 1", d)
	}
	return s, d, nil
}

// checkImageShape reports whether images of shape s can be written as 8-bit PNG (1 channel: gray, 3: RGB).
func checkImageShape(s data.Shape) error {
	if s.C != 1 && s.C != 3 {
		return fmt.Errorf("sample: image shape %v: want 1 (gray) or 3 (RGB) channels", s)
	}
	if s.H < 1 || s.W < 1 || s.H > 1<<14 || s.W > 1<<14 {
		return fmt.Errorf("sample: image shape %v: height and width must lie in [1, 16384]", s)
	}
	return nil
}
