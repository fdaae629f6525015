// Command train trains a DMMD critic (Galashov, De Bortoli, Gretton, ICLR 2025) on an image dataset.
//
// Run it again with the same -out to resume from the latest checkpoint; run with -h for every flag and default.
// The flags are defined, with the training settings, in package train (train.ParseCommandLine).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/dmmd/dmmd/train"
)

func main() {
	// The live heap is mostly long-lived graph buffers and the dataset; a training step allocates about 2 MB
	// (BenchmarkTrainStep's B/op). Go's default GOGC=100 lets the heap grow to twice the live heap before
	// collecting (a 400-step CIFAR-10 run of the small preset peaked at 1.05 GB); 25 kept that run's peak at
	// 0.65-0.69 GB. An explicit GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	cfg, opt, err := train.ParseCommandLine(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	opt.ResumeCommand = resumeCommand(opt.Out)
	ctx, cancel := interruptible(stderr)
	defer cancel()
	res, err := train.Run(ctx, cfg, opt)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if !res.Interrupted && res.StepsPerSec > 0 {
		fmt.Fprintf(stderr, "train: %.3g steps/s\n", res.StepsPerSec)
	}
	return 0
}

// interruptible returns a context that the first SIGINT or SIGTERM cancels (the run finishes its step and writes a
// checkpoint); a second one quits at once.
func interruptible(stderr io.Writer) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(stderr, "\ntrain: %v: finishing the current step and writing a checkpoint (again to quit at once)\n", s)
		cancel()
		<-sig
		fmt.Fprintln(stderr, "train: quitting without a checkpoint; the last one is intact")
		os.Exit(130)
	}()
	return ctx, cancel
}

// resumeCommand is how to continue a run: the program as invoked (or go run, for a temporary go run binary).
func resumeCommand(out string) string {
	prog := os.Args[0]
	if strings.Contains(prog, "go-build") {
		prog = "go run ./cmd/train"
	}
	return prog + " -out " + out
}
