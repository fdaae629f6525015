package checkpoints

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stepWriter returns a small checkpoint whose contents depend on step.
func stepWriter(step int64) *Writer {
	w := NewWriter()
	w.AddF32("params", nil, []float32{float32(step), 1, 2})
	w.AddBytes("rng", []byte{byte(step)})
	return w
}

func openRun(t *testing.T) *Run {
	t.Helper()
	r, err := OpenRun(filepath.Join(t.TempDir(), "run"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func save(t *testing.T, r *Run, steps ...int64) {
	t.Helper()
	for _, s := range steps {
		if _, err := r.Save(s, stepWriter(s)); err != nil {
			t.Fatal(err)
		}
	}
}

func readLatestFile(t *testing.T, r *Run) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Dir, LatestName))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantLatest asserts that Latest loads step, with a warning or without.
func wantLatest(t *testing.T, r *Run, step int64, warn bool) *Loaded {
	t.Helper()
	ld, err := r.Latest()
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	if ld.Step != step || ld.Path != r.CheckpointPath(step) {
		t.Fatalf("Latest = step %d (%s), want %d", ld.Step, ld.Path, step)
	}
	if (ld.Warning != "") != warn {
		t.Fatalf("Latest warning %q, want one: %v", ld.Warning, warn)
	}
	p, _, err := ld.File.F32("params")
	if err != nil || p[0] != float32(step) {
		t.Fatalf("loaded params %v, %v", p, err)
	}
	return ld
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestSaveAndLatest(t *testing.T) {
	r := openRun(t)
	if _, err := r.Latest(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Latest of an empty run: %v, want fs.ErrNotExist", err)
	}
	path, err := r.Save(100, stepWriter(100))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(r.Dir, "ckpt-000000100.safetensors"); path != want {
		t.Errorf("Save returned %s, want %s", path, want)
	}
	if got := readLatestFile(t, r); got != "ckpt-000000100.safetensors\n" {
		t.Errorf("latest holds %q", got)
	}
	save(t, r, 200, 1_000_000_000) // more than 9 digits
	ld := wantLatest(t, r, 1_000_000_000, false)
	if s, _ := ld.File.Meta(MetaStep); s != "1000000000" {
		t.Errorf("dmmd.step = %q", s)
	}
	cs, err := r.Checkpoints()
	if err != nil {
		t.Fatal(err)
	}
	var steps []int64
	for _, c := range cs {
		steps = append(steps, c.Step)
	}
	if !slices.Equal(steps, []int64{100, 200, 1_000_000_000}) {
		t.Errorf("Checkpoints steps %v", steps)
	}
	// Saving an older step again moves latest back: latest is the last save, not the largest step.
	save(t, r, 200)
	wantLatest(t, r, 200, false)
	if _, err := r.Save(-1, stepWriter(1)); err == nil {
		t.Error("Save(-1) succeeded")
	}
	bad := NewWriter()
	bad.AddF32("x", []int{2}, nil)
	if _, err := r.Save(300, bad); err == nil || !strings.Contains(err.Error(), `tensor "x"`) {
		t.Errorf("Save of a broken Writer: %v", err)
	}
	if _, err := os.Stat(r.CheckpointPath(300)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Save of a broken Writer left a file")
	}
}

// Save must not add dmmd.step to the caller's Writer.
func TestSaveLeavesWriterAlone(t *testing.T) {
	r := openRun(t)
	w := stepWriter(1)
	save := func(step int64) {
		if _, err := r.Save(step, w); err != nil {
			t.Fatal(err)
		}
	}
	save(1)
	save(2)
	if _, ok := w.meta[MetaStep]; ok {
		t.Error("Save set dmmd.step on the caller's Writer")
	}
	f, err := Checkpoint{Step: 2, Path: r.CheckpointPath(2)}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Meta(MetaStep); s != "2" {
		t.Errorf("dmmd.step = %q", s)
	}
}

// A crash while writing leaves a truncated temporary file, or (with a non-atomic writer, or a lying disk) a
// truncated checkpoint that latest never pointed at. Neither corrupts latest, and Latest still loads the
// last good checkpoint without complaint.
func TestCrashWhileWriting(t *testing.T) {
	r := openRun(t)
	save(t, r, 100, 200)
	full := encodeBytes(t, stepWriter(300))
	tmpCkpt := filepath.Join(r.Dir, ".ckpt-000000300.safetensors.tmp-1234567")
	tmpLatest := filepath.Join(r.Dir, ".latest.tmp-42")
	tmpConfig := filepath.Join(r.Dir, ".config.json.tmp-7")
	for path, content := range map[string][]byte{
		tmpCkpt:                     full[:len(full)/2],
		tmpLatest:                   []byte("ckpt-0000"),
		tmpConfig:                   []byte("{"),
		r.CheckpointPath(300):       full[:len(full)-3],
		r.CheckpointPath(250) + "x": full, // not ours: never touched
	} {
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := readLatestFile(t, r); got != "ckpt-000000200.safetensors\n" {
		t.Fatalf("latest holds %q", got)
	}
	wantLatest(t, r, 200, false)
	cs, _ := r.Checkpoints()
	if len(cs) != 3 || cs[2].Step != 300 {
		t.Fatalf("Checkpoints = %v, want 100, 200 and the truncated 300 (temporary files ignored)", cs)
	}

	// The next Save removes the temporary files, replaces the truncated 300 and moves latest.
	save(t, r, 300)
	for _, p := range []string{tmpCkpt, tmpLatest, tmpConfig} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived Save", filepath.Base(p))
		}
	}
	if _, err := os.Stat(r.CheckpointPath(250) + "x"); err != nil {
		t.Errorf("a file that is not ours was touched: %v", err)
	}
	wantLatest(t, r, 300, false)
}

// writeAtomic interrupted mid-write (the write callback fails) leaves the old file and no temporary file.
func TestWriteAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latest")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	err := writeAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "ckpt-000000")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Errorf("file now holds %q", b)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"latest"}) {
		t.Errorf("directory holds %v", names)
	}
}

// When latest cannot be used, Latest falls back to the newest checkpoint that verifies and says why.
func TestLatestFallback(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(t *testing.T, r *Run)
		step     int64
		warnHas  string
		errHas   string
		notExist bool
	}{
		{name: "latest missing", step: 300, warnHas: "no such file",
			damage: func(t *testing.T, r *Run) { os.Remove(filepath.Join(r.Dir, LatestName)) }},
		{name: "latest garbage", step: 300, warnHas: "does not name a checkpoint",
			damage: func(t *testing.T, r *Run) { os.WriteFile(filepath.Join(r.Dir, LatestName), []byte("\x00\x00"), 0o644) }},
		{name: "latest names a missing file", step: 200, warnHas: "ckpt-000000300.safetensors",
			damage: func(t *testing.T, r *Run) { os.Remove(r.CheckpointPath(300)) }},
		{name: "latest names a truncated file", step: 200, warnHas: "truncated",
			damage: func(t *testing.T, r *Run) { os.Truncate(r.CheckpointPath(300), 100) }},
		{name: "latest names a bit-flipped file", step: 200, warnHas: "checksum mismatch",
			damage: func(t *testing.T, r *Run) { flipLastByte(t, r.CheckpointPath(300)) }},
		{name: "latest names a renamed file", step: 200, warnHas: `dmmd.step is "100", file name says 300`,
			damage: func(t *testing.T, r *Run) { os.Rename(r.CheckpointPath(100), r.CheckpointPath(300)) }},
		{name: "all corrupt", errHas: "no usable checkpoint",
			damage: func(t *testing.T, r *Run) {
				for _, s := range []int64{100, 200, 300} {
					flipLastByte(t, r.CheckpointPath(s))
				}
			}},
		{name: "latest dangling, nothing else", errHas: "no usable checkpoint",
			damage: func(t *testing.T, r *Run) {
				for _, s := range []int64{100, 200, 300} {
					os.Remove(r.CheckpointPath(s))
				}
			}},
		{name: "fresh run", notExist: true,
			damage: func(t *testing.T, r *Run) {
				for _, n := range dirNames(t, r.Dir) {
					os.Remove(filepath.Join(r.Dir, n))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openRun(t)
			save(t, r, 100, 200, 300)
			tt.damage(t, r)
			if tt.errHas != "" || tt.notExist {
				_, err := r.Latest()
				if err == nil || !strings.Contains(err.Error(), tt.errHas) || errors.Is(err, fs.ErrNotExist) != tt.notExist {
					t.Fatalf("Latest error %v, want %q (fs.ErrNotExist: %v)", err, tt.errHas, tt.notExist)
				}
				return
			}
			ld := wantLatest(t, r, tt.step, true)
			if !strings.Contains(ld.Warning, tt.warnHas) || !strings.Contains(ld.Warning, ld.Path) {
				t.Errorf("warning %q, want it to contain %q and %s", ld.Warning, tt.warnHas, ld.Path)
			}
		})
	}
}

func flipLastByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestKeep(t *testing.T) {
	r := openRun(t)
	save(t, r, 100, 200, 300, 400, 500)
	foreign := []string{"ckpt-100.safetensors", "ckpt-000000100.safetensors.bak", "notes.txt", "ckpt-0000000100.safetensors"}
	for _, n := range foreign {
		if err := os.WriteFile(filepath.Join(r.Dir, n), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(r.Dir, "ckpt-000000050.safetensors"), 0o755); err != nil {
		t.Fatal(err)
	}
	steps := func() []int64 {
		cs, err := r.Checkpoints()
		if err != nil {
			t.Fatal(err)
		}
		var s []int64
		for _, c := range cs {
			s = append(s, c.Step)
		}
		return s
	}
	if err := r.Keep(3); err != nil {
		t.Fatal(err)
	}
	if got := steps(); !slices.Equal(got, []int64{300, 400, 500}) {
		t.Errorf("after Keep(3): %v", got)
	}
	// latest points at an older checkpoint (a resumed branch): Keep never deletes it.
	save(t, r, 300)
	save(t, r, 600, 700)
	if err := os.WriteFile(filepath.Join(r.Dir, LatestName), []byte("ckpt-000000300.safetensors\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Keep(1); err != nil {
		t.Fatal(err)
	}
	if got := steps(); !slices.Equal(got, []int64{300, 700}) {
		t.Errorf("after Keep(1) with latest at 300: %v", got)
	}
	wantLatest(t, r, 300, false)
	for _, n := range []int{0, -1} {
		if err := r.Keep(n); err == nil {
			t.Errorf("Keep(%d) succeeded", n)
		}
	}
	for _, n := range append(foreign, "ckpt-000000050.safetensors") {
		if _, err := os.Stat(filepath.Join(r.Dir, n)); err != nil {
			t.Errorf("%s (not ours) is gone: %v", n, err)
		}
	}
	// KeepAlso keeps the steps it is given as well (a checkpoint known good while newer ones are suspect).
	save(t, r, 800, 900)
	if err := r.KeepAlso(1, 700, 12345); err != nil {
		t.Fatal(err)
	}
	if got := steps(); !slices.Equal(got, []int64{700, 900}) {
		t.Errorf("after KeepAlso(1, 700) with latest at 900: %v", got)
	}
}

func TestCheckpointNames(t *testing.T) {
	tests := []struct {
		name string
		step int64
		ok   bool
	}{
		{"ckpt-000000000.safetensors", 0, true},
		{"ckpt-000000100.safetensors", 100, true},
		{"ckpt-123456789.safetensors", 123456789, true},
		{"ckpt-1234567890.safetensors", 1234567890, true},
		{"ckpt-100.safetensors", 0, false},
		{"ckpt-0000000100.safetensors", 0, false},
		{"ckpt--00000001.safetensors", 0, false},
		{"ckpt-+00000001.safetensors", 0, false},
		{"ckpt-000000100.safetensors.tmp-1", 0, false},
		{".ckpt-000000100.safetensors", 0, false},
		{"ckpt-99999999999999999999.safetensors", 0, false},
	}
	for _, tt := range tests {
		step, ok := parseCkptName(tt.name)
		if step != tt.step || ok != tt.ok {
			t.Errorf("parseCkptName(%q) = %d, %v", tt.name, step, ok)
		}
	}
	for _, n := range []string{".ckpt-000000100.safetensors.tmp-123", ".latest.tmp-1", ".config.json.tmp-99"} {
		if !tmpName.MatchString(n) {
			t.Errorf("%s not recognised as a temporary file", n)
		}
	}
	for _, n := range []string{".ckpt-100.safetensors.tmp-1", ".latest.tmp-", "latest.tmp-1", ".notes.tmp-1", ".latest.tmp-1x"} {
		if tmpName.MatchString(n) {
			t.Errorf("%s taken for a temporary file of ours", n)
		}
	}
}

type testConfig struct {
	Steps int      `json:"steps"`
	LR    float64  `json:"lr"`
	Data  string   `json:"data"`
	Dims  []int    `json:"dims"`
	Extra *float64 `json:"extra,omitempty"`
}

func TestConfig(t *testing.T) {
	r := openRun(t)
	if _, err := r.ReadConfig(&testConfig{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadConfig before WriteConfig: %v", err)
	}
	r.ProgramVersion = "dmmd v0.1.0 abc123"
	in := testConfig{Steps: 1000, LR: 2e-4, Data: "cifar10", Dims: []int{3, 32, 32}}
	if err := r.WriteConfig(in); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.Dir, ConfigName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\"format\": 1", "\"program_version\": \"dmmd v0.1.0 abc123\"", "\n    \"lr\": 0.0002"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.json lacks %q:\n%s", want, b)
		}
	}
	var out testConfig
	pv, err := r.ReadConfig(&out)
	if err != nil || pv != r.ProgramVersion || out.Steps != in.Steps || out.LR != in.LR || !slices.Equal(out.Dims, in.Dims) {
		t.Fatalf("ReadConfig = %+v, %q, %v", out, pv, err)
	}

	bad := []struct {
		name, content, want string
		corrupt             bool
	}{
		{"unknown field", `{"format":1,"program_version":"x","config":{"steps":1,"momentum":0.9}}`, `unknown field "momentum"`, false},
		{"newer format", `{"format":2,"program_version":"x","config":{}}`, "format version 2 is newer", false},
		{"no format", `{"program_version":"x","config":{}}`, "no format version", true},
		{"no config", `{"format":1}`, "no config", true},
		{"null config", `{"format":1,"config":null}`, "no config", true},
		{"truncated", `{"format":1,"config":{"ste`, "unexpected EOF", true},
		{"unknown wrapper field", `{"format":1,"config":{},"x":1}`, `unknown field "x"`, true},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(r.Dir, ConfigName)
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := r.ReadConfig(&testConfig{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) || errors.Is(err, ErrCorrupt) != tt.corrupt {
				t.Fatalf("ReadConfig error %v, want %q naming the file (ErrCorrupt: %v)", err, tt.want, tt.corrupt)
			}
		})
	}
	if err := r.WriteConfig(func() {}); err == nil {
		t.Error("WriteConfig of a func succeeded")
	}
}

func TestOpenRunDefaults(t *testing.T) {
	r := openRun(t)
	if r.ProgramVersion == "" {
		t.Error("no default program version")
	}
	if fi, err := os.Stat(r.Dir); err != nil || !fi.IsDir() {
		t.Fatalf("run directory: %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := OpenRun(filepath.Join(f, "run")); err == nil || !strings.HasPrefix(err.Error(), "checkpoints: ") {
		t.Errorf("OpenRun under a file: %v", err)
	}
}
