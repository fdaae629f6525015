package train

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/dmmd/dmmd/data/datasets"
	pbar "github.com/dmmd/dmmd/internal/progress"
	"github.com/dmmd/dmmd/internal/setting"
)

// invocation holds the flags of one invocation of the train command that are not part of the run's configuration.
type invocation struct {
	Options
	progress progressMode
}

// invocationSettings are the train command's flags besides the configuration's (settings).
var invocationSettings = setting.Table[invocation]{
	setting.Var("out", func(i *invocation) *string { return &i.Out }, "",
		"run directory (default runs/<dataset>); an existing run there is resumed"),
	setting.Var("fresh", func(i *invocation) *bool { return &i.Fresh }, false,
		"refuse to reuse a non-empty -out instead of resuming"),
	setting.Var("resume-from", func(i *invocation) *int64 { return &i.ResumeFrom }, 0,
		"resume from the checkpoint of this step (0 = the latest; after a divergence: the one its report names)"),
	setting.Var("download", func(i *invocation) *bool { return &i.Download }, false,
		"cifar10: download the official tarball (163 MB, MD5-checked) when absent"),
	setting.Var("progress", func(i *invocation) *progressMode { return &i.progress }, progressAuto,
		"progress display: auto (a bar on a terminal), bar, or lines"),
}

// progressMode is the -progress flag.
type progressMode int

const (
	progressAuto progressMode = iota
	progressBar
	progressLines
)

var progressNames = []string{"auto", "bar", "lines"}

func (p progressMode) MarshalText() ([]byte, error) {
	if p < 0 || int(p) >= len(progressNames) {
		return nil, fmt.Errorf("train: unknown progress display %d", int(p))
	}
	return []byte(progressNames[p]), nil
}

func (p *progressMode) UnmarshalText(b []byte) error {
	for i, name := range progressNames {
		if string(b) == name {
			*p = progressMode(i)
			return nil
		}
	}
	return fmt.Errorf("train: unknown progress display %q (want auto, bar or lines)", b)
}

// ParseCommandLine parses the train command's flags (args, without the program's name) into the run's
// configuration, the defaults of the chosen dataset overridden by the flags given, and the options of this
// invocation; opt.Set names the settings given, so that a resumed run overrides only those (see Run). It reports
// problems on stderr, as package flag does, and returns flag.ErrHelp after printing the help for -h.
func ParseCommandLine(args []string, stderr io.Writer) (Config, Options, error) {
	fs, given, inv := newFlagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return Config{}, Options{}, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("train: unexpected arguments %q (flags only; see -h)", fs.Args())
		fmt.Fprintln(stderr, err)
		return Config{}, Options{}, err
	}
	cfg, err := DefaultConfig(given.Dataset)
	if err == nil {
		inv.Set = settings.Given(fs)
		err = ApplyFlags(&cfg, given, inv.Set)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return Config{}, Options{}, err
	}
	opt := inv.Options
	if opt.Out == "" {
		opt.Out = filepath.Join("runs", cfg.Dataset)
	}
	opt.Log = stderr
	switch inv.progress {
	case progressAuto:
		opt.Terminal = pbar.IsTerminal(stderr)
	case progressBar:
		opt.Terminal = true
	}
	return cfg, opt, nil
}

// newFlagSet defines every flag of the train command, bound to the returned configuration and invocation, which hold
// the defaults -h shows (cifar10's, for the settings that depend on the dataset).
func newFlagSet(stderr io.Writer) (*flag.FlagSet, *Config, *invocation) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	given, err := DefaultConfig(datasets.CIFAR10)
	if err != nil {
		panic(err) // cifar10 is a dataset
	}
	var inv invocation
	invocationSettings.SetDefaults(&inv, "")
	settings.Register(fs, &given)
	invocationSettings.Register(fs, &inv)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: train [flags]\n\nTrains a DMMD critic. Running the same command again resumes from the latest\n"+
			"checkpoint in -out; only the flags you give override the run's saved settings.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nPer-dataset defaults (the flag defaults above are cifar10's):\n%s", setting.Text(perDataset()))
		fmt.Fprintf(stderr, "\nExamples:\n  train -dataset cifar10 -download -out runs/cifar10\n"+
			"  train -dataset mnist -data ../shared/data/mnist -out runs/mnist -steps 2000\n"+
			"  train -out runs/mnist          # resume\n")
	}
	return fs, &given, &inv
}

// perDataset is the table of the defaults that depend on the dataset, for -h and README.md.
func perDataset() (header []string, rows [][]string) {
	return settings.KeyTable("dataset", datasets.Names)
}
