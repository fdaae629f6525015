package sample

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"

	"github.com/dmmd/dmmd/checkpoints"
)

// Metadata keys of a stored embeddings file.
const (
	metaEmbedStep   = "dmmd.embed.checkpoint_step" // step of the checkpoint whose EMA weights produced it
	metaEmbedLevels = "dmmd.embed.levels"          // JSON array of the levels, descending
	metaEmbedM      = "dmmd.embed.images"          // number of training images averaged
	metaEmbedSeed   = "dmmd.embed.seed"            // seed of the forward noise for m_N
)

// EmbeddingsPath names the file that stores the embeddings of the checkpoint at step for this level grid, image
// count and noise seed: embeddings-<step>-<key>.safetensors in dir (the checkpoint's folder). Different grids or
// counts get different files, so switching sampler settings never overwrites a stored set.
func EmbeddingsPath(dir string, step int64, levels []float64, m int, seed uint64) string {
	h := fnv.New32a()
	fmt.Fprint(h, levels, m, seed)
	return filepath.Join(dir, fmt.Sprintf("embeddings-%09d-%08x.safetensors", step, h.Sum32()))
}

// SaveEmbeddings writes e atomically to path as a safetensors file: float64 tensors "m_p" and, when computed,
// "m_n", both [T, D], tagged with the checkpoint step, the level grid, the image count and the seed.
func SaveEmbeddings(path string, e *Embeddings, step int64) error {
	if err := e.Validate(); err != nil {
		return err
	}
	w := checkpoints.NewWriter()
	mp, mn := e.Flat()
	shape := []int{len(e.Levels), e.D()}
	w.AddF64("m_p", shape, mp)
	if mn != nil {
		w.AddF64("m_n", shape, mn)
	}
	lv, err := json.Marshal(e.Levels)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	w.SetMeta(metaEmbedStep, strconv.FormatInt(step, 10))
	w.SetMeta(metaEmbedLevels, string(lv))
	w.SetMeta(metaEmbedM, strconv.Itoa(e.M))
	w.SetMeta(metaEmbedSeed, strconv.FormatUint(e.Seed, 10))
	if err := w.WriteFile(path); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	return nil
}

// LoadEmbeddings reads embeddings stored by SaveEmbeddings and the checkpoint step they belong to.
func LoadEmbeddings(path string) (*Embeddings, int64, error) {
	f, err := checkpoints.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("sample: %w", err)
	}
	meta := func(k string) (string, error) {
		v, ok := f.Meta(k)
		if !ok {
			return "", fmt.Errorf("sample: %s: no %s metadata (not an embeddings file?)", path, k)
		}
		return v, nil
	}
	var levels []float64
	var m int
	var seed uint64
	var step int64
	s, err := meta(metaEmbedLevels)
	if err == nil {
		if err = json.Unmarshal([]byte(s), &levels); err != nil {
			err = fmt.Errorf("sample: %s: levels: %w", path, err)
		}
	}
	if err == nil {
		if s, err = meta(metaEmbedM); err == nil {
			if m, err = strconv.Atoi(s); err != nil {
				err = fmt.Errorf("sample: %s: image count: %w", path, err)
			}
		}
	}
	if err == nil {
		if s, err = meta(metaEmbedSeed); err == nil {
			if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
				err = fmt.Errorf("sample: %s: seed: %w", path, err)
			}
		}
	}
	if err == nil {
		if s, err = meta(metaEmbedStep); err == nil {
			if step, err = strconv.ParseInt(s, 10, 64); err != nil {
				err = fmt.Errorf("sample: %s: step: %w", path, err)
			}
		}
	}
	if err != nil {
		return nil, 0, err
	}
	mp, shape, err := f.F64("m_p")
	if err != nil {
		return nil, 0, fmt.Errorf("sample: %w", err)
	}
	if len(shape) != 2 || shape[0] != len(levels) {
		return nil, 0, fmt.Errorf("sample: %s: m_p has shape %v for %d levels", path, shape, len(levels))
	}
	var mn []float64
	if _, ok := f.Tensor("m_n"); ok {
		var nshape []int
		if mn, nshape, err = f.F64("m_n"); err != nil {
			return nil, 0, fmt.Errorf("sample: %w", err)
		}
		if fmt.Sprint(nshape) != fmt.Sprint(shape) {
			return nil, 0, fmt.Errorf("sample: %s: m_n has shape %v, m_p %v", path, nshape, shape)
		}
	}
	e, err := NewEmbeddings(levels, m, seed, shape[1], mp, mn)
	if err != nil {
		return nil, 0, fmt.Errorf("sample: %s: %w", path, err)
	}
	return e, step, nil
}
