package sample

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/rundir"
)

// Metadata keys of a stored embeddings file.
const (
	metaEmbedStep       = "dmmd.embed.checkpoint_step" // step of the checkpoint whose EMA weights produced it
	metaEmbedCheckpoint = "dmmd.embed.checkpoint"      // that checkpoint's checksum
	metaEmbedData       = "dmmd.embed.data"            // the identity of the images averaged
	metaEmbedLevels     = "dmmd.embed.levels"          // JSON array of the levels, descending
	metaEmbedM          = "dmmd.embed.images"          // number of training images averaged
	metaEmbedSeed       = "dmmd.embed.seed"            // seed of the forward noise for m_N (and m_P when rho > 0)
	metaEmbedRefRatio   = "dmmd.embed.ref_ratio"       // rho of m_P's reference level; absent in older files: 0
	metaEmbedMeanSq     = "dmmd.embed.mean_sq"         // the data's mean square; absent in older files: not recorded
)

// EmbeddingsSource is what stored mean embeddings were computed from, beyond what Embeddings records itself (the
// level grid, the image count and the noise seed): the checkpoint and the data. A stored set is reused only when
// all of it matches.
type EmbeddingsSource struct {
	Step       int64  // the checkpoint's training step
	Checkpoint string // the checkpoint's identity, such as its checksum (checkpoints.MetaChecksum)
	Data       string // the data's identity, such as DataHash of the dataset (its settings decide its content)
}

// Diff describes every field in which s (a stored set's) differs from want, or returns "" when they agree.
func (s EmbeddingsSource) Diff(want EmbeddingsSource) string {
	var d []string
	if s.Step != want.Step {
		d = append(d, fmt.Sprintf("checkpoint step %d, not %d", s.Step, want.Step))
	}
	if s.Checkpoint != want.Checkpoint {
		d = append(d, fmt.Sprintf("checkpoint %q, not %q", s.Checkpoint, want.Checkpoint))
	}
	if s.Data != want.Data {
		d = append(d, fmt.Sprintf("data %q, not %q", s.Data, want.Data))
	}
	return strings.Join(d, "; ")
}

// EmbeddingsPath names the file that stores the embeddings of src for this level grid, image count, noise seed and
// reference ratio: embeddings-<step>-<key>.safetensors (rundir.EmbeddingsName) in dir (the checkpoint's folder),
// the key a hash of everything else. Different grids, counts, seeds, reference ratios, checkpoints or data get
// different files, so a stored set is never overwritten by another. (A reference ratio of 0 keys as files written
// before it existed did, so that their embeddings, which are those of rho = 0, are still found.)
func EmbeddingsPath(dir string, levels []float64, m int, seed uint64, refRatio float64, src EmbeddingsSource) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%v|%d|%d|%q|%q", levels, m, seed, src.Checkpoint, src.Data)
	if refRatio != 0 {
		fmt.Fprintf(h, "|ref_ratio=%s", fmtFloat(refRatio))
	}
	return filepath.Join(dir, rundir.EmbeddingsName(src.Step, h.Sum64()))
}

// SaveEmbeddings writes e atomically to path as a safetensors file: float64 tensors "m_p" and, when computed,
// "m_n", both [T, D], tagged with src, the level grid, the image count, the seed, the reference ratio and (when
// recorded) the data's mean square.
func SaveEmbeddings(path string, e *Embeddings, src EmbeddingsSource) error {
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
	w.SetMeta(metaEmbedStep, strconv.FormatInt(src.Step, 10))
	w.SetMeta(metaEmbedCheckpoint, src.Checkpoint)
	w.SetMeta(metaEmbedData, src.Data)
	w.SetMeta(metaEmbedLevels, string(lv))
	w.SetMeta(metaEmbedM, strconv.Itoa(e.M))
	w.SetMeta(metaEmbedSeed, strconv.FormatUint(e.Seed, 10))
	w.SetMeta(metaEmbedRefRatio, fmtFloat(e.RefRatio))
	if e.MeanSq != 0 {
		w.SetMeta(metaEmbedMeanSq, fmtFloat(e.MeanSq))
	}
	if err := w.WriteFile(path); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	return nil
}

// LoadEmbeddings reads embeddings stored by SaveEmbeddings and what they were computed from. A file without a
// recorded checkpoint or data identity (written by an older dmmd) comes back with those fields empty; one without a
// reference ratio has rho = 0 (the only kind older versions computed), and one without the data's mean square has
// MeanSq = 0, not recorded: NewFlow refuses it for the DDIM update until MeanSq is set (MeanSquare).
func LoadEmbeddings(path string) (*Embeddings, EmbeddingsSource, error) {
	var src EmbeddingsSource
	f, err := checkpoints.ReadFile(path)
	if err != nil {
		return nil, src, fmt.Errorf("sample: %w", err)
	}
	src.Checkpoint, _ = f.Meta(metaEmbedCheckpoint)
	src.Data, _ = f.Meta(metaEmbedData)
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
			if src.Step, err = strconv.ParseInt(s, 10, 64); err != nil {
				err = fmt.Errorf("sample: %s: step: %w", path, err)
			}
		}
	}
	if err != nil {
		return nil, src, err
	}
	mp, shape, err := f.F64("m_p")
	if err != nil {
		return nil, src, fmt.Errorf("sample: %w", err)
	}
	if len(shape) != 2 || shape[0] != len(levels) {
		return nil, src, fmt.Errorf("sample: %s: m_p has shape %v for %d levels", path, shape, len(levels))
	}
	var mn []float64
	if _, ok := f.Tensor("m_n"); ok {
		var nshape []int
		if mn, nshape, err = f.F64("m_n"); err != nil {
			return nil, src, fmt.Errorf("sample: %w", err)
		}
		if fmt.Sprint(nshape) != fmt.Sprint(shape) {
			return nil, src, fmt.Errorf("sample: %s: m_n has shape %v, m_p %v", path, nshape, shape)
		}
	}
	e, err := NewEmbeddings(levels, m, seed, shape[1], mp, mn)
	if err != nil {
		return nil, src, fmt.Errorf("sample: %s: %w", path, err)
	}
	for _, m := range []struct {
		key string
		dst *float64
	}{{metaEmbedRefRatio, &e.RefRatio}, {metaEmbedMeanSq, &e.MeanSq}} {
		if s, ok := f.Meta(m.key); ok {
			if *m.dst, err = strconv.ParseFloat(s, 64); err != nil {
				return nil, src, fmt.Errorf("sample: %s: %s: %w", path, m.key, err)
			}
		}
	}
	if err := e.Validate(); err != nil {
		return nil, src, fmt.Errorf("sample: %s: %w", path, err)
	}
	return e, src, nil
}
