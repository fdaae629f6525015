package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWrite(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name    string
		old     string // "" = no file before
		write   func(io.Writer) error
		want    string
		wantErr error
	}{
		{"new file", "", func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }, "new\n", nil},
		{"replace", "old\n", func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }, "new\n", nil},
		{"empty", "old\n", func(io.Writer) error { return nil }, "", nil},
		{"failed write keeps the old file", "old\n", func(w io.Writer) error {
			io.WriteString(w, "half")
			return boom
		}, "old\n", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.txt")
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(path, tt.write)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Write: %v, want %v", err, tt.wantErr)
			}
			b, err := os.ReadFile(path)
			if err != nil || string(b) != tt.want {
				t.Errorf("file holds %q (%v), want %q", b, err, tt.want)
			}
			if got := names(t, dir); !slices.Equal(got, []string{"f.txt"}) {
				t.Errorf("directory holds %v", got)
			}
			if fi, _ := os.Stat(path); tt.wantErr == nil && fi.Mode().Perm() != 0o644 {
				t.Errorf("mode %v", fi.Mode().Perm())
			}
		})
	}
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name        string
		old         string
		wantCreated bool
		want        string
	}{
		{"absent", "", true, "new"},
		{"exists", "old", false, "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "m.json")
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			created, err := Create(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err })
			if err != nil || created != tt.wantCreated {
				t.Fatalf("Create = %v, %v; want %v", created, err, tt.wantCreated)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.want {
				t.Errorf("file holds %q, want %q", b, tt.want)
			}
			if got := names(t, dir); !slices.Equal(got, []string{"m.json"}) {
				t.Errorf("directory holds %v", got)
			}
		})
	}
}

func TestTempOf(t *testing.T) {
	tests := []struct {
		name, final string
		ok          bool
	}{
		{".ckpt-000000100.safetensors.tmp-123", "ckpt-000000100.safetensors", true},
		{".latest.tmp-1", "latest", true},
		{".000006.png.tmp123456", "000006.png", true}, // the form sample's own copy left
		{".manifest.json.tmp", "manifest.json", true},
		{"latest.tmp-1", "", false},
		{".latest.tmp-1x", "", false},
		{".tmp-1", "", false},
		{".notes", "", false},
	}
	for _, tt := range tests {
		final, ok := TempOf(tt.name)
		if final != tt.final || ok != tt.ok {
			t.Errorf("TempOf(%q) = %q, %v; want %q, %v", tt.name, final, ok, tt.final, tt.ok)
		}
	}
	// Every temporary file Write creates is recognised.
	dir := t.TempDir()
	path := filepath.Join(dir, "x.json")
	Write(path, func(io.Writer) error {
		got := names(t, dir)
		if len(got) != 1 {
			t.Fatalf("directory holds %v during the write", got)
		}
		if final, ok := TempOf(got[0]); !ok || final != "x.json" {
			t.Errorf("TempOf(%q) = %q, %v", got[0], final, ok)
		}
		return nil
	})
}
