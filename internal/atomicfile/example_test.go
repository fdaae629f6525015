package atomicfile_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dmmd/dmmd/internal/atomicfile"
)

// Write replaces a file so that a crash at any moment leaves the old or the new content, never a mix.
func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "latest")
	for _, s := range []string{"ckpt-000001000.safetensors\n", "ckpt-000002000.safetensors\n"} {
		if err := atomicfile.Write(path, func(w io.Writer) error {
			_, err := io.WriteString(w, s)
			return err
		}); err != nil {
			fmt.Println(err)
		}
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output: ckpt-000002000.safetensors
}
