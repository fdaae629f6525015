package sharedtest

import (
	"bytes"
	"os"
	"testing"
)

// UpdateEnv, set to 1, makes Generated rewrite the generated parts of a document instead of checking them.
const UpdateEnv = "DMMD_UPDATE_DOCS"

// Generated checks that the part of the document at path between the lines
//
//	<!-- generated: NAME ... -->
//	<!-- end generated: NAME -->
//
// is want, or, with DMMD_UPDATE_DOCS=1 in the environment, rewrites it to want.
func Generated(t testing.TB, path, name, want string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := []byte("<!-- generated: "+name+" "), []byte("<!-- end generated: "+name+" -->")
	i := bytes.Index(doc, begin)
	j := bytes.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated part %q (%s ... %s)", path, name, begin, end)
	}
	i += bytes.IndexByte(doc[i:], '\n') + 1
	if string(doc[i:j]) == want {
		return
	}
	if os.Getenv(UpdateEnv) != "1" {
		t.Fatalf("%s: the generated part %q is out of date; run the test with %s=1 to rewrite it. Want:\n%s",
			path, name, UpdateEnv, want)
	}
	out := append(append(append([]byte{}, doc[:i]...), want...), doc[j:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("rewrote the generated part %q of %s", name, path)
}
