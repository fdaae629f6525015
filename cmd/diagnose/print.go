package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/dmmd/dmmd/train"
)

// printTable writes one row per level.
func printTable(w io.Writer, d *train.CriticDiag) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "t\tmmd2\tmmd2_biased\t||c||\tf_clean mean\tf_clean std\tf_noisy mean\tf_noisy std\t"+
		"PR clean\tPR noisy\tvar along c\tcos(grad f, x0-x_t)\tcos(grad f, x_s-x_t)\t||grad f||\t")
	for _, l := range d.Levels {
		fmt.Fprintf(tw, "%g\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\t%.3g\t%.3g\t%.3g\t%.3f\t%.3f\t%.3g\t\n", l.T, l.MMD2,
			l.MMD2Biased, l.CNorm, l.WitnessRefMean, l.WitnessRefStd, l.WitnessNoisyMean, l.WitnessNoisyStd, l.PRRef,
			l.PRNoisy, l.VarAlongC, l.GradCos, l.StepCos, l.GradNorm)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("diagnose: %w", err)
	}
	return nil
}

// printJSON writes the record as diagnostics.jsonl holds it: one line.
func printJSON(w io.Writer, d *train.CriticDiag) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("diagnose: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
		return fmt.Errorf("diagnose: %w", err)
	}
	return nil
}
