package sample

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dmmd/dmmd/data"
)

// ManifestName is the file in an export folder that records what produced its images. Its name starts with a dot
// and does not end in an image extension, so pytorch-fid and clean-fid, which read *.png, never see it.
const ManifestName = ".dmmd-export.json"

// manifestFormat is the version of the manifest's layout.
const manifestFormat = 1

// Manifest records what produced an export folder's images: every setting that changes a single image. Export and
// ExportReal create it before the first image and add to a folder only when the manifest they would write is the
// same, so a folder never mixes images of two checkpoints, two sampler settings or two datasets.
//
// Settings that do not change any image are not recorded, so they may differ between the runs that fill a folder:
// the image count N (image i does not depend on it), the chunk size, and the shard i/n (any set of shards writes
// the same files; the flow-group size, which decides which images are computed together, is recorded).
type Manifest struct {
	Format   int               `json:"format"`
	Kind     string            `json:"kind"` // "samples" (Export) or "real" (ExportReal)
	Settings map[string]string `json:"settings"`
}

// Diff describes every setting in which m (the folder's) differs from want, or returns "" when they agree.
func (m *Manifest) Diff(want *Manifest) string {
	var diff []string
	if m.Kind != want.Kind {
		diff = append(diff, fmt.Sprintf("it holds %s images, this export writes %s images", m.Kind, want.Kind))
	}
	keys := map[string]bool{}
	for k := range m.Settings {
		keys[k] = true
	}
	for k := range want.Settings {
		keys[k] = true
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		a, okA := m.Settings[k]
		b, okB := want.Settings[k]
		switch {
		case !okA:
			a = "(not recorded)"
		case !okB:
			b = "(not set)"
		}
		if a != b || okA != okB {
			diff = append(diff, fmt.Sprintf("%s: %s there, %s now", k, a, b))
		}
	}
	return strings.Join(diff, "; ")
}

// flowManifest describes the images Export writes with f: the flow's settings, the particle shape and the mean
// embeddings it follows, plus the caller's source entries (checkpoint and data identity).
func flowManifest(f *Flow, source map[string]string) *Manifest {
	o := f.opt
	s := map[string]string{
		"shape":           f.shape.String(),
		"flow":            o.Mode.String(),
		"levels":          strconv.Itoa(o.Levels),
		"steps_per_level": strconv.Itoa(o.StepsPerLevel),
		"eta":             fmtFloat(o.Eta),
		"eta_schedule":    o.EtaSchedule.String(),
		"eta_norm":        strconv.FormatBool(o.EtaNorm),
		"spacing":         o.Spacing.String(),
		"noise":           fmtFloat(o.Noise),
		"clip":            o.Clip.String(),
		"particles":       strconv.Itoa(o.Particles),
		"seed":            strconv.FormatUint(o.Seed, 10),
		"tmax":            fmtFloat(o.TMax),
		"tmin":            fmtFloat(o.TMin),
		"schedule":        fmt.Sprintf("beta_min=%s beta_max=%s tmin=%s", fmtFloat(o.Schedule.BetaMin), fmtFloat(o.Schedule.BetaMax), fmtFloat(o.Schedule.TMin)),
		"embeddings":      f.embeddingsHash(),
	}
	// Settings added after the first manifests are recorded only when they differ from what older versions did, so
	// that a folder an older dmmd began (Euler, rho = 0) still takes the same images.
	if o.RefRatio != 0 {
		s["ref_ratio"] = fmtFloat(o.RefRatio)
	}
	if o.Update != Euler {
		s["update"] = o.Update.String()
		s["x0_clip"] = strconv.FormatBool(o.X0Clip)
		if o.DDIMNoise != 0 {
			s["ddim_noise"] = fmtFloat(o.DDIMNoise)
		}
		if o.DDIMGradLen {
			s["ddim_grad_length"] = "true"
		}
		delete(s, "eta_schedule") // unused by DDIM
		delete(s, "eta_norm")
	}
	for k, v := range source {
		s[k] = v
	}
	return &Manifest{Format: manifestFormat, Kind: "samples", Settings: s}
}

// realManifest describes the images ExportReal writes from ds: their shape and the dataset's content.
func realManifest(ds data.Dataset, source map[string]string) *Manifest {
	s := map[string]string{"shape": ds.Shape().String(), "data": DataHash(ds)}
	for k, v := range source {
		s[k] = v
	}
	return &Manifest{Format: manifestFormat, Kind: "real", Settings: s}
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// DataHash identifies a dataset's content: "<count> images <shape> fnv64a <hash of every image>" (the hash of the
// 8-bit pixels for a *data.U8, so it equals the trainer's data fingerprint; of the float32 values otherwise).
func DataHash(ds data.Dataset) string {
	h := fnv.New64a()
	if u, ok := ds.(interface{ Pix() []uint8 }); ok {
		h.Write(u.Pix())
	} else {
		buf := make([]float32, ds.Shape().Size())
		b := make([]byte, 4*len(buf))
		for i := range ds.Len() {
			ds.Image(i, buf)
			for j, v := range buf {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
			}
			h.Write(b)
		}
	}
	return fmt.Sprintf("%d images %v fnv64a %016x", ds.Len(), ds.Shape(), h.Sum64())
}

// embeddingsHash identifies what the flow follows in place of the data: its level grid and the mean-embedding
// values it uses (m_P for the exact flow, m_P - m_N for the approximate one), and the data's mean square for the
// DDIM update.
func (f *Flow) embeddingsHash() string {
	h := fnv.New64a()
	var b [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	for _, t := range f.levels {
		put(t)
	}
	for _, row := range f.mp {
		for _, v := range row {
			put(v)
		}
	}
	for _, row := range f.approxDir {
		for _, v := range row {
			put(float64(v))
		}
	}
	if f.opt.Update == DDIM {
		put(f.meanSq)
	}
	return fmt.Sprintf("fnv64a %016x", h.Sum64())
}

// claimFolder makes sure the export folder dir belongs to want: it creates the manifest when the folder holds no
// images yet (atomically, and only if no other process created one first), and otherwise checks that the
// folder's manifest is the same. files is the number of export images already there.
func claimFolder(dir string, want *Manifest, files int) error {
	path := filepath.Join(dir, ManifestName)
	have, err := readManifest(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if files > 0 {
			return fmt.Errorf("sample: output folder %s holds %d exported images but no %s (written by an older "+
				"dmmd?), so what produced them is unknown; nothing was written: use a new or empty folder, or "+
				"delete these images to export again here", dir, files, ManifestName)
		}
		b, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			return fmt.Errorf("sample: %w", err)
		}
		created, err := createExclusive(path, append(b, '\n'))
		if err != nil {
			return err
		}
		if created {
			return nil
		}
		// Another process (a shard started at the same time) created it first: check against its.
		if have, err = readManifest(path); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if d := have.Diff(want); d != "" {
		return fmt.Errorf("sample: output folder %s holds images made with other settings (%s): adding to it would "+
			"mix two exports; nothing was written: use a new or empty folder (or delete %s to start it over)",
			dir, d, dir)
	}
	return nil
}

// readManifest reads a manifest; a missing file wraps fs.ErrNotExist.
func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("sample: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("sample: %s is not a readable manifest (%w): delete the folder's images and it to "+
			"export again there", path, err)
	}
	if m.Format < 1 || m.Format > manifestFormat {
		return nil, fmt.Errorf("sample: %s has format %d; this program reads up to %d", path, m.Format, manifestFormat)
	}
	return &m, nil
}
