package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dmmd/dmmd/checkpoints"
)

// Names of the files and folders in a run directory (see the package documentation).
const (
	ConfigName      = checkpoints.ConfigName // the resolved configuration
	LatestName      = checkpoints.LatestName // names the checkpoint to resume from
	MetricsName     = "metrics.jsonl"        // one JSON object per step
	LossChartName   = "loss.png"             // the loss chart, redrawn at every checkpoint
	SamplesDir      = "samples"              // the training-time sample grids and their scores
	ScoresName      = "scores.jsonl"         // in SamplesDir: one score per grid
	WarningsName    = "warnings.jsonl"       // optional diagnostics that failed, and why
	DiagnosticsName = "diagnostics.jsonl"    // critic diagnostics, one line per checkpoint
	DiagChartName   = "diagnostics.png"      // the critic diagnostics' chart, redrawn at every checkpoint

	checkpointPrefix = "ckpt-"
	embeddingsPrefix = "embeddings-"
	tensorExt        = ".safetensors"
)

// CheckpointName is the file name of the checkpoint of step: ckpt-<step, 9+ digits>.safetensors.
func CheckpointName(step int64) string { return (&checkpoints.Run{}).CheckpointPath(step) }

// GridName is the file name, in SamplesDir, of the sample grid written at step: step-<step, 9+ digits>.png.
func GridName(step int64) string { return fmt.Sprintf("step-%09d.png", step) }

// EmbeddingsName is the file name of the mean embeddings the sampler stores for the checkpoint of step, key
// identifying everything else they depend on: embeddings-<step, 9+ digits>-<key, 16 hex digits>.safetensors.
func EmbeddingsName(step int64, key uint64) string {
	return fmt.Sprintf("%s%09d-%016x%s", embeddingsPrefix, step, key, tensorExt)
}

// Ours reports whether a directory entry's name is one a run writes (including the temporary files of its
// crash-safe writes).
func Ours(name string) bool {
	switch name {
	case ConfigName, LatestName, MetricsName, LossChartName, SamplesDir, WarningsName, DiagnosticsName, DiagChartName:
		return true
	}
	if (strings.HasPrefix(name, checkpointPrefix) || strings.HasPrefix(name, embeddingsPrefix)) &&
		strings.HasSuffix(name, tensorExt) {
		return true
	}
	return strings.HasPrefix(name, ".") // the temporary files of crash-safe writes
}

// Leftovers lists the files of a run other than config.json and its checkpoints (a metrics log, sample grids,
// warnings, diagnostics) that dir holds with content: a directory with some but neither config.json nor a
// checkpoint held a run whose settings are unknown.
func Leftovers(dir string) []string {
	var out []string
	for _, name := range []string{MetricsName, LossChartName, SamplesDir, WarningsName, DiagnosticsName} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err == nil && (fi.IsDir() || fi.Size() > 0) {
			out = append(out, name)
		}
	}
	return out
}
