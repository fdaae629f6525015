package train

import (
	"context"
	"errors"
	"testing"
)

// TestRunDirectoryLock: a second trainer on a run directory another one holds stops with ErrRunInUse before
// touching anything, and the directory is free again once the holder is done.
func TestRunDirectoryLock(t *testing.T) {
	dir := t.TempDir()
	held, err := lockRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, ds := tinyConfig(t, 3), synthetic(t, 32, 1)
	_, err = Run(context.Background(), cfg, Options{Out: dir, Dataset: ds})
	if !errors.Is(err, ErrRunInUse) {
		t.Fatalf("second trainer on a held directory: %v, want %v", err, ErrRunInUse)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, Options{Out: dir, Dataset: ds}); err != nil {
		t.Fatalf("after the holder closed: %v", err)
	}
	// Run released its own lock when it returned.
	again, err := lockRunDir(dir)
	if err != nil {
		t.Fatalf("lock after Run returned: %v", err)
	}
	again.Close()
}
