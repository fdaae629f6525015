package main

import (
	"fmt"
	"io"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/rundir"
	"github.com/dmmd/dmmd/sample"
)

// dataSource is the data the sampler reads besides the checkpoint (for the mean embeddings, -score and
// -export-real): the run's dataset with the run's preprocessing, unless flags override them. Every override is
// printed; the images must have the model's shape, and the run's data must still be the run's data.
type dataSource struct {
	o        datasets.Options
	run      *rundir.TrainConfig // nil for -export-real without -ckpt
	explicit []string            // data flags given, as "-flag value"
	stderr   io.Writer
	ds       data.Dataset
	err      error
	opened   bool
}

// newDataSource resolves the dataset options: the run's, then the flags given (each override printed).
func newDataSource(f *flags, set map[string]bool, run *rundir.TrainConfig, stderr io.Writer) *dataSource {
	s := &dataSource{run: run, stderr: stderr, o: datasets.Options{Progress: stderr}}
	if run != nil {
		s.o = datasets.Options{Name: run.Dataset, Path: run.Data, CacheDir: run.DataCache, Size: run.FolderSize,
			Crop: run.CelebACrop, Pad32: run.MNISTPad32, Limit: run.DataLimit, Progress: stderr}
	}
	for _, fl := range []struct {
		name      string
		run, flag any
		apply     func()
	}{
		{"dataset", s.o.Name, f.dataset, func() { s.o.Name = f.dataset }},
		{"data", s.o.Path, f.dataPath, func() { s.o.Path = f.dataPath }},
		{"data-limit", s.o.Limit, f.dataLimit, func() { s.o.Limit = f.dataLimit }},
		{"mnist-pad32", s.o.Pad32, f.pad32, func() { s.o.Pad32 = f.pad32 }},
		{"celeba-crop", s.o.Crop, f.crop, func() { s.o.Crop = f.crop }},
		{"folder-size", s.o.Size, f.folderSize, func() { s.o.Size = f.folderSize }},
		{"data-cache", s.o.CacheDir, f.dataCache, func() { s.o.CacheDir = f.dataCache }},
	} {
		if !set[fl.name] {
			continue
		}
		fl.apply()
		if fl.name != "data-cache" { // where caches go changes no image
			s.explicit = append(s.explicit, fmt.Sprintf("-%s %v", fl.name, fl.flag))
		}
		if run != nil && fmt.Sprint(fl.run) != fmt.Sprint(fl.flag) {
			fmt.Fprintf(stderr, "sample: note: -%s %v overrides the run's %v\n", fl.name, fl.flag, fl.run)
		}
	}
	return s
}

// modelShape is the image shape the run's model takes.
func modelShape(c *rundir.TrainConfig) data.Shape {
	return data.Shape{C: c.Model.Channels, H: c.Model.ImageSize, W: c.Model.ImageSize}
}

// runHash is the run's data fingerprint in DataHash's form, or "" when the run recorded none.
func runHash(c *rundir.TrainConfig) string {
	if c == nil || c.Fingerprint == nil {
		return ""
	}
	fp := c.Fingerprint
	return fmt.Sprintf("%d images %s fnv64a %s", fp.Count, fp.Shape, fp.Hash)
}

// open opens the dataset once and checks it against the run: the model's image shape, and (unless data flags
// were given) the run's data fingerprint.
func (s *dataSource) open() (data.Dataset, error) {
	if s.opened {
		return s.ds, s.err
	}
	s.opened = true
	s.ds, s.err = s.check()
	return s.ds, s.err
}

func (s *dataSource) check() (data.Dataset, error) {
	if s.o.Name == "" {
		return nil, usagef("-dataset is required")
	}
	ds, err := datasets.Open(s.o)
	if err != nil {
		return nil, err
	}
	if s.run == nil {
		return ds, nil
	}
	if want := modelShape(s.run); ds.Shape() != want {
		return nil, fmt.Errorf("sample: the data (%s at %s) are %v images, the checkpoint's model takes %v (it was "+
			"trained on %s with -data-limit %d -mnist-pad32=%t -celeba-crop %d -folder-size %d): give the run's "+
			"dataset and preprocessing", s.o.Name, s.o.Path, ds.Shape(), want, s.run.Dataset, s.run.DataLimit,
			s.run.MNISTPad32, s.run.CelebACrop, s.run.FolderSize)
	}
	want, got := runHash(s.run), sample.DataHash(ds)
	switch {
	case want == "" || want == got:
	case len(s.explicit) == 0:
		return nil, fmt.Errorf("sample: the data at %s (%s) are not the run's training data (%s): the mean "+
			"embeddings and the score would describe other images; give -data with the run's data, or give -data "+
			"explicitly to use these anyway", s.o.Path, got, want)
	default:
		fmt.Fprintf(s.stderr, "sample: note: the data (%s) are not the run's training data (%s); using them as "+
			"asked (%v)\n", got, want, s.explicit)
	}
	return ds, nil
}

// identity names the images the mean embeddings are computed from, for keying stored embeddings: the run's data
// fingerprint when no data flag was given (without opening the data), otherwise the opened data's DataHash.
func (s *dataSource) identity() (string, error) {
	if s.run != nil && len(s.explicit) == 0 {
		if h := runHash(s.run); h != "" {
			return h, nil
		}
		return fmt.Sprintf("the run's data: %s (limit %d, pad32 %t, crop %d, size %d; no fingerprint recorded)",
			s.run.Dataset, s.run.DataLimit, s.run.MNISTPad32, s.run.CelebACrop, s.run.FolderSize), nil
	}
	ds, err := s.open()
	if err != nil {
		return "", err
	}
	return sample.DataHash(ds), nil
}
