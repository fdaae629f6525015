package checkpoints

import (
	"io"
	"regexp"

	"github.com/dmmd/dmmd/internal/atomicfile"
)

// writeAtomic replaces path crash-safely (atomicfile.Write: a temporary file in the same directory, fsynced,
// renamed over path, and the directory fsynced). On any error path is untouched.
func writeAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, write)
}

// syncDir fsyncs a directory so that a rename or a removal in it is durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// tmpName matches the temporary files (atomicfile's ".<name>.tmp-<digits>") of the files a Run owns.
var tmpName = regexp.MustCompile(`^\.(ckpt-[0-9]{9,}\.safetensors|latest|config\.json)\.tmp-[0-9]+$`)
