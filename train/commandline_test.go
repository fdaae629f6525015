package train

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dmmd/dmmd/data/datasets"
	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/internal/setting"
	"github.com/dmmd/dmmd/internal/sharedtest"
	"github.com/dmmd/dmmd/model"
)

func TestCkptEveryFlag(t *testing.T) {
	for _, tc := range []struct {
		in       string
		steps    int64
		interval time.Duration
		ok       bool
	}{
		{"1000", 1000, 0, true}, {"10m", 0, 10 * time.Minute, true}, {"500,1h", 500, time.Hour, true},
		{"0", 0, 0, true}, {"-5", 0, 0, false}, {"x", 0, 0, false},
	} {
		var r RunSettings
		err := ckptEvery{&r}.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (r.CkptEvery != tc.steps || time.Duration(r.CkptInterval) != tc.interval)) {
			t.Errorf("Set(%q) = %+v, %v", tc.in, r, err)
		}
	}
}

// TestParseCommandLine: the flags given override the chosen dataset's defaults, and only they are marked as given
// (a resumed run overrides only those).
func TestParseCommandLine(t *testing.T) {
	mnist, _ := DefaultConfig(datasets.MNIST)
	cifar, _ := DefaultConfig(datasets.CIFAR10)
	for _, tc := range []struct {
		args []string
		want func(c *Config) // edits of the dataset's defaults that the flags make
		set  []string
	}{
		{nil, func(c *Config) {}, nil},
		{[]string{"-dataset", "mnist"}, func(c *Config) { *c = mnist }, []string{"dataset"}},
		{[]string{"-dataset", "mnist", "-steps", "7", "-lr", "1e-3"},
			func(c *Config) { *c = mnist; c.Steps, c.Adam.LR = 7, 1e-3 }, []string{"dataset", "steps", "lr"}},
		{[]string{"-groups", "4", "-mmd", "biased", "-l2", "set-means"},
			func(c *Config) { c.Loss.Groups, c.Loss.MMD, c.Loss.L2 = 4, model.MMDBiased, model.L2SetMeans },
			[]string{"groups", "mmd", "l2"}},
		{[]string{"-tdist", "uniform", "-penalty-at", "xt"},
			func(c *Config) { c.TDist, c.Loss.PenaltyAt = diffusion.TUniform, model.PenaltyAtXT }, []string{"tdist", "penalty-at"}},
		{[]string{"-ckpt-every", "500"}, func(c *Config) { c.Run.CkptEvery, c.Run.CkptInterval = 500, 0 },
			[]string{"ckpt-every", "ckpt-interval"}},
		{[]string{"-flip=false", "-seed", "9", "-out", "x"}, func(c *Config) { c.Flip, c.Seed = false, 9 }, []string{"flip", "seed"}},
	} {
		cfg, opt, err := ParseCommandLine(tc.args, io.Discard)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		want := cifar
		tc.want(&want)
		if d := settings.Diff(&want, &cfg); len(d) > 0 {
			t.Errorf("%v: settings differ from what was asked: %+v", tc.args, d)
		}
		if got := slices.Sorted(maps.Keys(opt.Set)); !slices.Equal(got, slices.Sorted(slices.Values(tc.set))) {
			t.Errorf("%v: given %v, want %v", tc.args, got, tc.set)
		}
	}
	_, opt, _ := ParseCommandLine([]string{"-dataset", "mnist", "-progress", "bar"}, io.Discard)
	if opt.Out != filepath.Join("runs", "mnist") || !opt.Terminal {
		t.Errorf("-out defaults to %q, terminal %v", opt.Out, opt.Terminal)
	}
}

func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-groups", "two"}, "invalid value"},
		{[]string{"-mmd", "fancy"}, "want unbiased, biased or paired"},
		{[]string{"-l2", "none"}, "want witness, set-means or features"},
		{[]string{"-penalty-at", "y"}, "want xt or interp"},
		{[]string{"-tdist", "beta"}, "unknown t distribution"},
		{[]string{"-progress", "fancy"}, "want auto, bar or lines"},
		{[]string{"-dataset", "imagenet"}, "unknown dataset"},
		{[]string{"stray"}, "unexpected arguments"},
	} {
		var buf bytes.Buffer
		_, _, err := ParseCommandLine(tc.args, &buf)
		if err == nil || errors.Is(err, flag.ErrHelp) || !strings.Contains(buf.String(), tc.want) {
			t.Errorf("%v: %v, output:\n%s", tc.args, err, buf.String())
		}
	}
}

// TestHelpListsEverySetting: -h lists every flag with its default (cifar10's where it depends on the dataset), and
// the per-dataset table.
func TestHelpListsEverySetting(t *testing.T) {
	var buf bytes.Buffer
	if _, _, err := ParseCommandLine([]string{"-h"}, &buf); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	help := buf.String()
	block := func(name string) string { // the lines -h prints for a flag
		i := strings.Index(help, "\n  -"+name+" ")
		if i < 0 {
			i = strings.Index(help, "\n  -"+name+"\n")
		}
		if i < 0 {
			return ""
		}
		n := strings.Index(help[i+1:], "\n  -")
		if n < 0 {
			n = len(help) - i - 1
		}
		return help[i+1 : i+1+n]
	}
	cifar, _ := DefaultConfig(datasets.CIFAR10)
	for _, s := range settings {
		b := block(s.Name())
		if s.IsHidden() {
			if b != "" {
				t.Errorf("hidden -%s has a flag", s.Name())
			}
			continue
		}
		def := s.Text(&cifar)
		zero := def == "" || def == "0" || def == "false"
		if b == "" || (!zero && !(strings.Contains(b, "(default ") && strings.Contains(b, def))) {
			t.Errorf("-h shows -%s without its default %q:\n%s", s.Name(), def, b)
		}
	}
	for _, s := range invocationSettings {
		if block(s.Name()) == "" {
			t.Errorf("-h lacks -%s", s.Name())
		}
	}
	for _, want := range []string{"Per-dataset defaults", "mnist", "20000", "data/downloads/celeba"} {
		if !strings.Contains(help, want) {
			t.Errorf("-h lacks %q:\n%s", want, help)
		}
	}
}

// TestREADME: README.md's tables of the trainer's flags and per-dataset defaults are generated from the settings
// (DMMD_UPDATE_DOCS=1 go test ./train -run README rewrites them).
func TestREADME(t *testing.T) {
	fs, _, _ := newFlagSet(io.Discard)
	rows := append(settings.FlagRows(fs, "per dataset"), invocationSettings.FlagRows(fs, "")...)
	sharedtest.Generated(t, "../README.md", "train flags", setting.Markdown([]string{"flag", "default", "meaning"}, rows))
	sharedtest.Generated(t, "../README.md", "train per-dataset defaults", setting.Markdown(perDataset()))
	var fixed []string
	for _, s := range settings {
		if s.IsFixed() {
			fixed = append(fixed, "`-"+s.Name()+"`")
		}
	}
	sharedtest.Generated(t, "../README.md", "train fixed settings", strings.Join(fixed, ", ")+".\n")
}
