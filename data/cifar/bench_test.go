package cifar

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoadTrain loads the 50,000 training images from five official-size
// batch files (random pixels) into memory.
func BenchmarkLoadTrain(b *testing.B) {
	dir := filepath.Join(b.TempDir(), FolderName)
	os.MkdirAll(dir, 0o755)
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, BatchRecords*RecordSize)
	for k := 1; k <= 5; k++ {
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		for i := 0; i < len(buf); i += RecordSize {
			buf[i] %= NumClasses
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", k)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(5 * BatchRecords * RecordSize)
	for b.Loop() {
		ds, err := Load(Options{Path: dir})
		if err != nil || ds.Len() != 50000 {
			b.Fatal(err)
		}
	}
}
