package model

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// reportPeakRSS adds the process's peak resident set size (VmHWM, Linux only) to a benchmark's output.
func reportPeakRSS(b *testing.B) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				b.ReportMetric(kb/1024, "peakRSS-MiB")
			}
		}
	}
}
