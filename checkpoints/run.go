package checkpoints

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// Names of the files a Run owns.
const (
	ConfigName = "config.json"
	LatestName = "latest"
)

// Run is a training run's directory (see the package documentation for its layout). It touches only
// config.json, latest, ckpt-<9+ digit step>.safetensors and its own temporary files; anything else in the
// directory is left alone.
type Run struct {
	// Dir is the run directory.
	Dir string
	// ProgramVersion is recorded in config.json by WriteConfig. OpenRun sets it from the binary's build
	// information; set it to something better (a release tag) if you have one.
	ProgramVersion string
}

// Checkpoint names one checkpoint file of a run.
type Checkpoint struct {
	Step int64
	Path string
}

// Loaded is a checkpoint that was read and verified.
type Loaded struct {
	Checkpoint
	File *File
	// Warning is empty when the latest pointer was followed. Otherwise it says why the pointer could not be
	// used and which checkpoint was loaded instead; show it to the user.
	Warning string
}

// OpenRun returns the Run in dir, creating the directory if needed.
func OpenRun(dir string) (*Run, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return &Run{Dir: dir, ProgramVersion: buildVersion()}, nil
}

// buildVersion describes the running binary: its module version and, when recorded, its VCS revision.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Path + " " + bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev + dirty
	}
	return strings.TrimSpace(v)
}

// configFile is config.json: the caller's configuration wrapped with the versions needed to read it back.
type configFile struct {
	Format         int             `json:"format"`
	ProgramVersion string          `json:"program_version"`
	Config         json.RawMessage `json:"config"`
}

// WriteConfig writes config.json atomically: cfg (any JSON-encodable value, normally the fully resolved
// configuration) wrapped as {"format": FormatVersion, "program_version": r.ProgramVersion, "config": cfg},
// indented. An existing config.json is replaced.
func (r *Run) WriteConfig(cfg any) error {
	path := filepath.Join(r.Dir, ConfigName)
	c, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("checkpoints: %s: %w", path, err)
	}
	b, err := json.MarshalIndent(configFile{Format: FormatVersion, ProgramVersion: r.ProgramVersion, Config: c}, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoints: %s: %w", path, err)
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReadConfig decodes config.json's configuration into into (a pointer) and returns the program version that
// wrote it. Unknown fields are an error, so a configuration this program does not fully understand is never
// silently half-applied. A missing file wraps fs.ErrNotExist.
func (r *Run) ReadConfig(into any) (programVersion string, err error) {
	path := filepath.Join(r.Dir, ConfigName)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("checkpoints: %w", err)
	}
	var c configFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return "", fmt.Errorf("checkpoints: %s: %w: %w", path, ErrCorrupt, err)
	}
	switch {
	case c.Format < 1 || c.Config == nil || string(c.Config) == "null":
		return "", fmt.Errorf("checkpoints: %s: %w: no format version or no config", path, ErrCorrupt)
	case c.Format > FormatVersion:
		return "", fmt.Errorf("checkpoints: %s: format version %d is newer than this program reads (%d)", path, c.Format, FormatVersion)
	}
	dec = json.NewDecoder(bytes.NewReader(c.Config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return "", fmt.Errorf("checkpoints: %s: config: %w", path, err)
	}
	return c.ProgramVersion, nil
}

// CheckpointPath returns the path of the checkpoint for step: ckpt-<step, zero-padded to 9 digits>.safetensors.
func (r *Run) CheckpointPath(step int64) string { return filepath.Join(r.Dir, ckptName(step)) }

func ckptName(step int64) string { return fmt.Sprintf("ckpt-%09d.safetensors", step) }

// parseCkptName returns the step of a checkpoint file name, accepting only the exact names ckptName makes.
func parseCkptName(name string) (int64, bool) {
	digits, ok := strings.CutPrefix(name, "ckpt-")
	if !ok {
		return 0, false
	}
	if digits, ok = strings.CutSuffix(digits, ".safetensors"); !ok {
		return 0, false
	}
	step, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || step < 0 || ckptName(step) != name {
		return 0, false
	}
	return step, true
}

// Save writes w as the checkpoint for step, atomically, records the step in its metadata (dmmd.step), and
// then points latest at it, atomically: after a crash at any moment, latest names a complete checkpoint.
// Stray temporary files from an earlier crash are removed first. An existing checkpoint for the same step is
// replaced. It returns the checkpoint's path.
func (r *Run) Save(step int64, w *Writer) (string, error) {
	if step < 0 {
		return "", fmt.Errorf("checkpoints: negative step %d", step)
	}
	if err := w.Err(); err != nil {
		return "", err
	}
	r.removeTemps()
	wc := *w
	wc.meta = maps.Clone(w.meta)
	wc.setMeta(MetaStep, strconv.FormatInt(step, 10))
	path := r.CheckpointPath(step)
	if err := wc.WriteFile(path); err != nil {
		return "", err
	}
	err := writeAtomic(filepath.Join(r.Dir, LatestName), func(out io.Writer) error {
		_, err := io.WriteString(out, ckptName(step)+"\n")
		return err
	})
	if err != nil {
		return "", err
	}
	return path, nil
}

// removeTemps deletes the temporary files a crash can leave behind. Failures are harmless: the files are
// ignored by everything else and retried on the next Save.
func (r *Run) removeTemps() {
	ents, err := os.ReadDir(r.Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.Type().IsRegular() && tmpName.MatchString(e.Name()) {
			os.Remove(filepath.Join(r.Dir, e.Name()))
		}
	}
}

// Checkpoints lists the run's checkpoint files by ascending step, from their names alone (nothing is read).
func (r *Run) Checkpoints() ([]Checkpoint, error) {
	ents, err := os.ReadDir(r.Dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	var cs []Checkpoint
	for _, e := range ents {
		if step, ok := parseCkptName(e.Name()); ok && e.Type().IsRegular() {
			cs = append(cs, Checkpoint{Step: step, Path: filepath.Join(r.Dir, e.Name())})
		}
	}
	slices.SortFunc(cs, func(a, b Checkpoint) int { return cmp.Compare(a.Step, b.Step) })
	return cs, nil
}

// pointer returns the checkpoint the latest file names. A missing file wraps fs.ErrNotExist.
func (r *Run) pointer() (Checkpoint, error) {
	path := filepath.Join(r.Dir, LatestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoints: %w", err)
	}
	name := strings.TrimSpace(string(b))
	step, ok := parseCkptName(name)
	if !ok {
		return Checkpoint{}, fmt.Errorf("checkpoints: %s: %w: does not name a checkpoint: %.60q", path, ErrCorrupt, b)
	}
	return Checkpoint{Step: step, Path: filepath.Join(r.Dir, name)}, nil
}

// Load reads and verifies the checkpoint, including that its dmmd.step matches its file name.
func (c Checkpoint) Load() (*File, error) {
	f, err := ReadFile(c.Path)
	if err != nil {
		return nil, err
	}
	if s, _ := f.Meta(MetaStep); s != strconv.FormatInt(c.Step, 10) {
		return nil, fmt.Errorf("checkpoints: %s: %w: %s is %q, file name says %d", c.Path, ErrCorrupt, MetaStep, s, c.Step)
	}
	return f, nil
}

// Latest loads the checkpoint to resume from: the one latest names, read and verified. If latest is missing
// or unusable (it names a missing, truncated or corrupt file), Latest falls back to the newest checkpoint
// that verifies and says so in Loaded.Warning. With no latest and no checkpoint at all (a fresh run) the
// error wraps fs.ErrNotExist; when checkpoints exist but none verifies, the error lists every failure.
func (r *Run) Latest() (*Loaded, error) {
	cs, err := r.Checkpoints()
	if err != nil {
		return nil, err
	}
	ptr, perr := r.pointer()
	if perr == nil {
		f, err := ptr.Load()
		if err == nil {
			return &Loaded{Checkpoint: ptr, File: f}, nil
		}
		perr = err
	} else if errors.Is(perr, fs.ErrNotExist) && len(cs) == 0 {
		return nil, fmt.Errorf("checkpoints: %s: no checkpoint: %w", r.Dir, fs.ErrNotExist)
	}
	failures := []string{perr.Error()}
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Path == ptr.Path {
			continue // already tried
		}
		f, err := cs[i].Load()
		if err == nil {
			warn := fmt.Sprintf("checkpoints: not resuming from %s (%v); loaded %s, the newest valid checkpoint, instead",
				filepath.Join(r.Dir, LatestName), strings.Join(failures, "; "), cs[i].Path)
			return &Loaded{Checkpoint: cs[i], File: f, Warning: warn}, nil
		}
		failures = append(failures, err.Error())
	}
	return nil, fmt.Errorf("checkpoints: %s: no usable checkpoint: %s", r.Dir, strings.Join(failures, "; "))
}

// Keep deletes all checkpoints but the newest n (n >= 1) and the one latest names.
func (r *Run) Keep(n int) error { return r.KeepAlso(n) }

// KeepAlso is Keep that also keeps the checkpoints of the given steps (for example the newest checkpoint a trainer
// knows to be good while newer ones are suspect). Steps without a checkpoint are ignored.
func (r *Run) KeepAlso(n int, steps ...int64) error {
	if n < 1 {
		return fmt.Errorf("checkpoints: Keep(%d): must keep at least one checkpoint", n)
	}
	cs, err := r.Checkpoints()
	if err != nil {
		return err
	}
	ptr, _ := r.pointer()
	var errs []error
	for _, c := range cs[:max(0, len(cs)-n)] {
		if c.Path == ptr.Path || slices.Contains(steps, c.Step) {
			continue
		}
		if err := os.Remove(c.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("checkpoints: %w", err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return syncDir(r.Dir)
}
