package model

import (
	"math"

	"github.com/dmmd/dmmd/model/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// timeMLP maps the sinusoidal features e (G, TimeEmbed) of G noise levels to tau = silu(fc2(silu(fc1(e)))),
// (G, TimeHidden), which feeds every block's time bias. G = 1 but in a grouped training step. It is not on the
// image path, so it has no input-VJP: the witness gradient is taken with respect to the image only.
type timeMLP struct {
	embed, hidden dim
}

func newTimeMLP(c Config) *timeMLP {
	return &timeMLP{embed: dim{c.TimeEmbed, "TimeEmbed"}, hidden: dim{c.TimeHidden, "TimeHidden"}}
}

func (m *timeMLP) params() []param {
	l := paramList{prefix: "time.", docPrefix: "time."}
	l.add("fc1.weight", dims(m.hidden, m.embed), "y = x W^T + b, as torch.nn.Linear")
	l.add("fc1.bias", dims(m.hidden))
	l.add("fc2.weight", dims(m.hidden, m.hidden))
	l.add("fc2.bias", dims(m.hidden))
	return l.list
}

// forward adds tau for the time features e (G, TimeEmbed).
func (m *timeMLP) forward(b *builder, e *G.Node) (_ *G.Node, err error) {
	c := &ops.Chain{}
	defer c.Guard(&err)
	linear := func(x *G.Node, name string) *G.Node {
		return c.Op(ops.AddBias(c.Op(ops.MatMul(x, b.p(name+".weight"), false, true)), b.p(name+".bias")))
	}
	h := c.Op(ops.SiLU(linear(e, "time.fc1")))
	h = c.Op(ops.SiLU(linear(h, "time.fc2")))
	return h, c.Err
}

// timeFeatures writes the sinusoidal embedding of level t into dst (length TimeEmbed):
// with s = 1000 t, half = TimeEmbed/2 and w_k = 10000^(-k/(half-1)) (w_0 = 1 when half = 1),
// dst[k] = sin(s w_k) and dst[half+k] = cos(s w_k).
func timeFeatures(t float64, dst []float64) {
	half := len(dst) / 2
	s := 1000 * t
	for k := 0; k < half; k++ {
		w := 1.0
		if half > 1 {
			w = math.Exp(-math.Log(10000) * float64(k) / float64(half-1))
		}
		dst[k] = math.Sin(s * w)
		dst[half+k] = math.Cos(s * w)
	}
}

// setTimes writes the time features of ts[g] into row g of the (len(ts), TimeEmbed) input tensor.
func setTimes(dst *tensor.Dense, ts []float64, scratch []float64) {
	e := len(scratch)
	for g, t := range ts {
		timeFeatures(t, scratch)
		switch d := dst.Data().(type) {
		case []float32:
			for i, v := range scratch {
				d[g*e+i] = float32(v)
			}
		case []float64:
			copy(d[g*e:(g+1)*e], scratch)
		}
	}
}
