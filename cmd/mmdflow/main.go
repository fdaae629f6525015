// Command mmdflow runs the MMD gradient flow experiments of Arbel, Korba,
// Salim and Gretton (NeurIPS 2019) with the mmd package:
//
//	mmdflow toy [flags]              2-D particles flowing to a ring of Gaussians or two moons
//	mmdflow student-teacher [flags]  the paper's student-teacher network, noise vs no noise
//
// Each writes a PNG chart and a JSON summary (the toy also a frame strip and
// an animated GIF) into the -out directory. Run "mmdflow CMD -h" for the
// flags and their defaults.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dmmd/dmmd/internal/atomicfile"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage: mmdflow COMMAND [flags]

commands:
  toy              2-D MMD flow from a bad start to a ring of Gaussians or two
                   moons, with and without noise injection
  student-teacher  Arbel et al.'s student-teacher network (d=50, 1000
                   particles), noise injection versus none, over seeds

Run "mmdflow COMMAND -h" for the flags of a command and their defaults.
`

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "toy":
		err = runToy(args[1:], stdout, stderr)
	case "student-teacher":
		err = runStudentTeacher(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "mmdflow: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "mmdflow %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "mmdflow %s: %v\n", args[0], err)
		return 1
	}
}

// errUsage marks errors in the command line.
var errUsage = errors.New("bad usage")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// newFlags returns a flag set that prints its usage line, a description
// and every flag with its default on -h.
func newFlags(name, desc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mmdflow %s [flags]\n\n%s\nflags:\n", name, desc)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and rejects positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	return nil
}

// writeJSON writes v as indented JSON to path crash-safely (atomicfile.Write), so that a reader never sees half
// a file.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
