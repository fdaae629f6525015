//go:build unix

package train

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// lockRunDir takes an exclusive advisory lock (flock) on the run directory itself, so that a second trainer on
// the same directory stops with ErrRunInUse instead of interleaving its metrics, checkpoints and logs with the
// first's. The lock is released by Close and by the process's exit, however it ends (kill -9 included), so a
// crashed run never leaves a stale lock behind. No file is created: -fresh still sees an empty directory.
func lockRunDir(dir string) (io.Closer, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("train: locking the run directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (wait for it to finish, or stop it, before running another trainer there)",
				ErrRunInUse, dir)
		}
		return nil, fmt.Errorf("train: locking the run directory %s: %w", dir, err)
	}
	return f, nil
}
