package rundir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/checkpoints"
	"github.com/dmmd/dmmd/model"
)

const golden = "testdata/ckpt-000000002.safetensors" // written before this package existed (testdata/README.md)

func sum(p *model.Params) (s float64, n int) {
	for i := range p.Len() {
		for _, v := range p.Float64s(i) {
			s += v
			n++
		}
	}
	return s, n
}

// A checkpoint written before the schema moved here opens and loads the weights it held.
func TestLoadGolden(t *testing.T) {
	o, err := Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	if o.Step != 2 || o.Warning != "" {
		t.Errorf("step %d, warning %q", o.Step, o.Warning)
	}
	tests := []struct {
		name string
		load func(*checkpoints.File) (*model.Params, *TrainConfig, error)
		sum  float64
	}{
		{"ema", LoadEMA, 12.301287185215187},
		{"trained", LoadTrained, 12.302829473681413},
	}
	for _, tt := range tests {
		p, cfg, err := tt.load(o.File)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if s, n := sum(p); s != tt.sum || n != 3176 {
			t.Errorf("%s: sum %v over %d values, want %v over 3176", tt.name, s, n, tt.sum)
		}
		fp := Fingerprint{Count: 32, Shape: "1x8x8", Hash: "972735ef01aa9465"}
		if cfg.Dataset != "folder" || cfg.Preset != "tiny" || cfg.Model.ImageSize != 8 || cfg.Model.Channels != 1 ||
			cfg.Fingerprint == nil || *cfg.Fingerprint != fp || cfg.Seed != 3 || cfg.Sched.TMin == 0 {
			t.Errorf("%s: config %+v", tt.name, cfg)
		}
		if err := o.File.CheckShapes(ExpectedShapes(cfg.Model)); err != nil {
			t.Errorf("the golden checkpoint does not have the schema's tensors: %v", err)
		}
	}
}

// copyGolden makes a run directory holding the golden checkpoint, with or without a latest pointer.
func copyGolden(t *testing.T, latest string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, CheckpointName(2)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if latest != "" {
		if err := os.WriteFile(filepath.Join(dir, LatestName), []byte(latest), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name     string
		path     func(t *testing.T) string
		wantStep int64
		warning  bool
		notExist bool
		errHas   string
	}{
		{"file", func(*testing.T) string { return golden }, 2, false, false, ""},
		{"run", func(t *testing.T) string { return copyGolden(t, CheckpointName(2)+"\n") }, 2, false, false, ""},
		{"run with a bad pointer", func(t *testing.T) string { return copyGolden(t, "garbage\n") }, 2, true, false, ""},
		{"empty run", func(t *testing.T) string { return t.TempDir() }, 0, false, true, "holds no checkpoint yet"},
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, 0, false, true, "nope"},
		{"not a checkpoint", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.safetensors")
			os.WriteFile(p, []byte("hello"), 0o644)
			return p
		}, 0, false, false, "x.safetensors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Open(tt.path(t))
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) || !strings.HasPrefix(err.Error(), "rundir: ") ||
					errors.Is(err, fs.ErrNotExist) != tt.notExist {
					t.Fatalf("error %v, want one containing %q (not exist: %v)", err, tt.errHas, tt.notExist)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Step != tt.wantStep || (o.Warning != "") != tt.warning {
				t.Errorf("step %d, warning %q", o.Step, o.Warning)
			}
		})
	}
}

// A safetensors file that is not a training checkpoint is refused by name.
func TestLoadNotTrained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plain.safetensors")
	w := checkpoints.NewWriter()
	w.AddF32("x", []int{1}, []float32{1})
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := checkpoints.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadEMA(f); err == nil || !strings.Contains(err.Error(), MetaTrainConfig) {
		t.Errorf("error %v, want one naming %s", err, MetaTrainConfig)
	}
}
