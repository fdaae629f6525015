package sample

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestClaimFolderRace: shards that start at the same moment on an empty folder all claim it when they agree, and
// when two settings race, exactly one manifest is written and every process of the other setting is refused.
func TestClaimFolderRace(t *testing.T) {
	for round := range 20 {
		dir := t.TempDir()
		a := &Manifest{Format: manifestFormat, Kind: "samples", Settings: map[string]string{"seed": "0"}}
		b := &Manifest{Format: manifestFormat, Kind: "samples", Settings: map[string]string{"seed": "1"}}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			m := a
			if i%2 == 1 {
				m = b
			}
			wg.Go(func() { errs[i] = claimFolder(dir, m, 0) })
		}
		wg.Wait()
		have, err := readManifest(filepath.Join(dir, ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		for i, err := range errs {
			mine := a
			if i%2 == 1 {
				mine = b
			}
			if agree := have.Diff(mine) == ""; agree != (err == nil) {
				t.Fatalf("round %d, process %d: manifest %v, its %v, error %v", round, i, have.Settings, mine.Settings, err)
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("round %d: %d entries left (temporary files?): %v", round, len(entries), fmt.Sprint(entries))
		}
	}
}
