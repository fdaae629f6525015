package checkpoints

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ShapeError reports every way a file's tensors differ from what was expected.
type ShapeError struct {
	Path       string
	Missing    []string // expected, not in the file
	Unexpected []string // in the file, not expected
	Mismatched []string // in both, with different shapes: "name: file has [2 3], want [3 2]"
}

func (e *ShapeError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("missing %d tensor(s): %s", len(e.Missing), strings.Join(e.Missing, ", ")))
	}
	if len(e.Unexpected) > 0 {
		parts = append(parts, fmt.Sprintf("%d unexpected tensor(s): %s", len(e.Unexpected), strings.Join(e.Unexpected, ", ")))
	}
	if len(e.Mismatched) > 0 {
		parts = append(parts, fmt.Sprintf("%d tensor(s) of the wrong shape: %s", len(e.Mismatched), strings.Join(e.Mismatched, "; ")))
	}
	return fmt.Sprintf("checkpoints: %s does not match the configuration: %s", e.Path, strings.Join(parts, "; "))
}

// CheckShapes compares the file's tensors with want (name to shape, as the configuration implies them) and
// returns a *ShapeError listing every missing, unexpected and mis-shaped tensor, or nil if they match
// exactly. A nil shape in want only requires the tensor to be present, for blobs of varying length such as
// RNG state; use []int{} for a scalar.
func (f *File) CheckShapes(want map[string][]int) error {
	e := &ShapeError{Path: f.path}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		got, ok := f.tensors[name]
		switch {
		case !ok:
			e.Missing = append(e.Missing, name)
		case want[name] != nil && !slices.Equal(got.shape, want[name]):
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%s: file has %v, want %v", name, got.shape, want[name]))
		}
	}
	for _, name := range f.Names() {
		if _, ok := want[name]; !ok {
			e.Unexpected = append(e.Unexpected, name)
		}
	}
	if len(e.Missing)+len(e.Unexpected)+len(e.Mismatched) == 0 {
		return nil
	}
	return e
}
