package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "usage: mmdflow COMMAND"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"toy", "extra"}, "unexpected arguments"},
		{[]string{"toy", "-nope"}, "flag provided but not defined"},
		{[]string{"toy", "-steps", "0"}, "steps"},
		{[]string{"toy", "-target", "spiral"}, "unknown target"},
		{[]string{"toy", "-kernel", "gaussian:-1"}, "-kernel"},
		{[]string{"toy", "-noise", "none"}, "-noise none"},
		{[]string{"toy", "-noise", "halve:1"}, "-noise"},
		{[]string{"toy", "-init-mean", "3"}, "-init-mean"},
		{[]string{"toy", "-gif-delay", "0"}, "-gif-delay"},
		{[]string{"toy", "-particles", "-5"}, "particles"},
		{[]string{"student-teacher", "-seeds", "1,x"}, "-seeds"},
		{[]string{"student-teacher", "-batch", "5000"}, "batch"},
		{[]string{"student-teacher", "-epochs", "0"}, "epochs"},
		{[]string{"student-teacher", "-noise", "const:-1"}, "-noise"},
		{[]string{"student-teacher", "-log-every", "-1"}, "-log-every"},
	}
	for _, tc := range tests {
		code, _, stderr := runArgs(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestHelpListsEveryFlag checks that -h documents each flag with its
// default.
func TestHelpListsEveryFlag(t *testing.T) {
	if code, out, _ := runArgs("-h"); code != 0 || !strings.Contains(out, "student-teacher") {
		t.Errorf("mmdflow -h: exit %d, %q", code, out)
	}
	flags := map[string][]string{
		"toy": {"out", "target", "modes", "radius", "spread", "targets", "particles", "init-mean", "init-std",
			"kernel", "step", "steps", "noise", "eval-every", "frames", "gif-frames", "gif-delay", "seed"},
		"student-teacher": {"out", "dim", "hidden", "particles", "train", "valid", "batch", "epochs", "step",
			"noise", "student-mean", "student-std", "teacher-std", "eval-every", "seeds", "log-every", "replot"},
	}
	for cmd, names := range flags {
		code, _, help := runArgs(cmd, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d", cmd, code)
		}
		var listed []string
		for _, line := range strings.Split(help, "\n") {
			if strings.HasPrefix(line, "  -") {
				listed = append(listed, strings.TrimPrefix(strings.Fields(line)[0], "-"))
			}
		}
		if strings.Join(listed, " ") != strings.Join(sorted(names), " ") {
			t.Errorf("%s -h lists %v, want %v", cmd, listed, sorted(names))
		}
		if n := strings.Count(help, "(default "); n < len(names)-1 {
			t.Errorf("%s -h shows %d defaults for %d flags", cmd, n, len(names))
		}
	}
}

func sorted(s []string) []string {
	c := append([]string(nil), s...)
	slices.Sort(c)
	return c
}

func TestToyWritesOutputs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runArgs("toy", "-out", dir, "-targets", "40", "-particles", "30", "-steps", "20",
		"-eval-every", "5", "-frames", "3", "-gif-frames", "3", "-target", "moons")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"toy_moons.png", "toy_moons_frames.png", "toy_moons.gif", "toy_moons.json"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(stdout, "toy moons: MMD^2") {
		t.Errorf("stdout %q", stdout)
	}
	var s struct {
		Config struct {
			Steps int `json:"steps"`
		} `json:"config"`
		Kernel string `json:"kernel"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "toy_moons.json"))
	if err := json.Unmarshal(b, &s); err != nil || s.Config.Steps != 20 || s.Kernel != "gaussian(sigma=0.5)" {
		t.Errorf("summary: %v %+v", err, s)
	}
	// A second run with -gif-frames 0 leaves no new GIF behind.
	dir2 := filepath.Join(t.TempDir(), "out2")
	if code, _, stderr := runArgs("toy", "-out", dir2, "-targets", "20", "-particles", "20", "-steps", "4",
		"-frames", "2", "-gif-frames", "0"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir2, "toy_ring.gif")); !os.IsNotExist(err) {
		t.Errorf("GIF written with -gif-frames 0: %v", err)
	}
}

func TestStudentTeacherWritesOutputs(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runArgs("student-teacher", "-out", dir, "-dim", "4", "-particles", "6", "-train", "20",
		"-valid", "20", "-batch", "10", "-epochs", "4", "-eval-every", "2", "-seeds", "3,4", "-log-every", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "seed 4: final validation loss") || !strings.Contains(stderr, "seed 3 noise none                         epoch      2") {
		t.Errorf("stdout %q\nstderr %q", stdout, stderr)
	}
	var s struct {
		Complete     bool              `json:"complete"`
		Seeds        []uint64          `json:"seeds"`
		WithNoise    []json.RawMessage `json:"with_noise"`
		WithoutNoise []json.RawMessage `json:"without_noise"`
		Noise        string            `json:"noise"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "student_teacher.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil || !s.Complete || len(s.WithNoise) != 2 || len(s.WithoutNoise) != 2 ||
		s.Noise != "halve(beta0=1, every=1)" {
		t.Errorf("summary: %v %+v", err, s)
	}
	if _, err := os.Stat(filepath.Join(dir, "student_teacher.png")); err != nil {
		t.Error(err)
	}
	// -replot redraws the chart from the summary.
	re := filepath.Join(t.TempDir(), "re")
	if code, stdout, stderr := runArgs("student-teacher", "-replot", filepath.Join(dir, "student_teacher.json"), "-out", re); code != 0 ||
		!strings.Contains(stdout, "student_teacher.png") {
		t.Errorf("-replot: exit %d, %s %s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(re, "student_teacher.png")); err != nil {
		t.Error(err)
	}
	if code, _, _ := runArgs("student-teacher", "-replot", filepath.Join(re, "student_teacher.png")); code != 2 {
		t.Errorf("-replot of a PNG: exit %d, want 2", code)
	}
}
