package sample

import (
	"fmt"
	"io"

	"github.com/dmmd/dmmd/data"
)

// PreviewOptions configures WritePreview. The zero value gives the defaults of PreviewDefaults.
type PreviewOptions struct {
	Flow       Options     // flow settings; the zero value means PreviewDefaults(dim)
	Embeddings *Embeddings // mean embeddings on Flow's level grid; nil = computed from the first M images of ds
	M          int         // images for the embeddings when Embeddings is nil; 0 = 256
	Seed       uint64      // seed of the forward noise for m_N (approximate flow only)
	N          int         // images in the grid; 0 = 64
	Scale      int         // grid upscaling; 0 = 1
	Progress   io.Writer   // progress bar for the embeddings; nil = silent
}

// PreviewDefaults are the flow settings of a training-time preview for a critic trained against the clean data:
// PreviewDefaultsFor(dim, 0, false).
func PreviewDefaults(dim int) Options { return PreviewDefaultsFor(dim, 0, false) }

// PreviewDefaultsFor are the flow settings of a training-time preview for a critic trained at reference ratio
// refRatio with the zero-centred gradient penalty or not (zeroCentred): the exact flow with 64 particles (one group)
// and UpdateFor(refRatio) (its Eta DDIMEtaFor(zeroCentred) for DDIM), otherwise DefaultOptionsFor (50 levels of 2
// steps, NFE 100), with RefRatio set. Fewer levels are cheaper but misleading: on MNIST a 20-level
// preview still showed noise when the default flow already drew digit shapes.
func PreviewDefaultsFor(dim int, refRatio float64, zeroCentred bool) Options {
	o := DefaultOptionsFor(Exact, UpdateFor(refRatio), dim)
	if o.Update == DDIM {
		o.Eta = DDIMEtaFor(zeroCentred)
	}
	o.Particles = 64
	o.Chunk = 64
	o.RefRatio = refRatio
	return o
}

// Preview runs the trainer's -sample-every flow: a 64-particle flow with critic c, returning N samples. With no
// Embeddings it first averages the critic's features over the first M images of ds on the flow's level grid, at
// the flow's reference ratio Flow.RefRatio (m_P only for the exact flow), which costs M * T feature evaluations.
func Preview(c Critic, ds data.Dataset, opt PreviewOptions) ([]float32, error) {
	shape, _, err := checkCritic(c)
	if err != nil {
		return nil, err
	}
	o := opt.Flow
	if o == (Options{}) {
		o = PreviewDefaults(shape.Size())
	}
	n := opt.N
	if n == 0 {
		n = 64
	}
	if n < 0 || opt.M < 0 {
		return nil, fmt.Errorf("sample: preview: N = %d and M = %d must be >= 0", n, opt.M)
	}
	emb := opt.Embeddings
	if emb == nil {
		levels, err := o.LevelGrid()
		if err != nil {
			return nil, err
		}
		m := opt.M
		if m == 0 {
			m = 256
		}
		emb, err = ComputeEmbeddings(c, ds, levels, EmbedOptions{
			M: m, Batch: o.Chunk, Seed: opt.Seed, RefRatio: o.RefRatio, Schedule: o.Schedule,
			SkipNoised: o.Mode == Exact, Progress: opt.Progress,
		})
		if err != nil {
			return nil, err
		}
	}
	f, err := NewFlow(c, emb, o)
	if err != nil {
		return nil, err
	}
	return f.Sample(n)
}

// WritePreview runs Preview and writes the samples as a grid to path (PNG, atomically), upscaled by opt.Scale.
func WritePreview(c Critic, ds data.Dataset, path string, opt PreviewOptions) error {
	scale := opt.Scale
	if scale == 0 {
		scale = 1
	}
	if scale < 0 {
		return fmt.Errorf("sample: preview: scale = %d must be >= 0", scale)
	}
	x, err := Preview(c, ds, opt)
	if err != nil {
		return err
	}
	return WriteGrid(path, x, CriticShape(c), scale)
}
