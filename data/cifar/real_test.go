package cifar

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/dmmd/dmmd/internal/sharedtest"
)

// buildShared rebuilds the five training batches from the shared JPEGs with
// the shared cifar10bin tool, into a temporary folder.
func buildShared(t *testing.T) string {
	jpgs := sharedtest.Path(t, "cifar10/cifar-10-jpg.tar.gz")
	labels := sharedtest.Path(t, "cifar10/train_labels.txt")
	tool := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(jpgs))), "tools", "cifar10bin")
	if _, err := os.Stat(filepath.Join(tool, "main.go")); err != nil {
		t.Skipf("real-data test skipped: no cifar10bin tool: %v", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := t.TempDir()
	cmd := exec.Command(goBin, "run", ".", "-tar", jpgs, "-labels", labels, "-out", out, "-n", "5")
	cmd.Dir = tool
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cifar10bin: %v\n%s", err, b)
	}
	return out
}

func TestRealCIFAR10(t *testing.T) {
	dir := buildShared(t)
	ds, err := Load(Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 50000 || ds.Shape().C != 3 || ds.Shape().H != 32 || ds.Shape().W != 32 {
		t.Fatalf("loaded %d images of %v, want 50000 of 3x32x32", ds.Len(), ds.Shape())
	}
	if got, want := ds.Labels()[:10], []int{6, 9, 9, 4, 1, 1, 2, 7, 8, 3}; !slices.Equal(got, want) {
		t.Errorf("first labels %v, want %v", got, want)
	}
	all, first := make([]int, 10), make([]int, 10)
	for i, l := range ds.Labels() {
		all[l]++
		if i < BatchRecords {
			first[l]++
		}
	}
	if want := []int{5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000}; !slices.Equal(all, want) {
		t.Errorf("class counts %v, want 5000 each", all)
	}
	if want := []int{1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}; !slices.Equal(first, want) {
		t.Errorf("data_batch_1 class counts %v, want the official %v", first, want)
	}

	// Per-channel statistics against those of the original CIFAR-10 training
	// set (the shared pixels are JPEG q75 re-encodings, so not bit-exact).
	var sum, sq [3]float64
	for i := range ds.Len() {
		raw := ds.Raw(i)
		for c := range 3 {
			for _, v := range raw[c*1024 : (c+1)*1024] {
				sum[c] += float64(v)
				sq[c] += float64(v) * float64(v)
			}
		}
	}
	n := float64(ds.Len() * 1024)
	official := [3][2]float64{{125.307, 62.993}, {122.950, 62.089}, {113.865, 66.705}}
	for c := range 3 {
		m := sum[c] / n
		sd := math.Sqrt(sq[c]/n - m*m)
		t.Logf("channel %d: mean %.3f std %.3f (original %.3f %.3f)", c, m, sd, official[c][0], official[c][1])
		if math.Abs(m-official[c][0]) > 1 || math.Abs(sd-official[c][1]) > 2 {
			t.Errorf("channel %d: mean %.3f std %.3f, original CIFAR-10 has %.3f %.3f", c, m, sd, official[c][0], official[c][1])
		}
	}

	// The folder holds only the training split.
	if _, err := Load(Options{Path: dir, Split: "test"}); err == nil {
		t.Error("test split loaded from a folder without test_batch.bin")
	}
}
