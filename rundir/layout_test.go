package rundir

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{CheckpointName(1000), "ckpt-000001000.safetensors"},
		{CheckpointName(1234567890), "ckpt-1234567890.safetensors"},
		{GridName(500), "step-000000500.png"},
		{EmbeddingsName(2000, 0xabc), "embeddings-000002000-0000000000000abc.safetensors"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestOurs(t *testing.T) {
	tests := []struct {
		name string
		ours bool
	}{
		{ConfigName, true}, {LatestName, true}, {MetricsName, true}, {LossChartName, true}, {SamplesDir, true},
		{WarningsName, true}, {DiagnosticsName, true}, {DiagChartName, true},
		{CheckpointName(5), true}, {EmbeddingsName(5, 1), true},
		{".ckpt-000000005.safetensors.tmp-123", true}, {".loss.png.tmp-1", true},
		{"notes.txt", false}, {"ckpt-5.bin", false}, {"embeddings.npz", false}, {"samples.zip", false},
		{"model.safetensors", false},
	}
	for _, tt := range tests {
		if got := Ours(tt.name); got != tt.ours {
			t.Errorf("Ours(%q) = %v, want %v", tt.name, got, tt.ours)
		}
	}
}

func TestLeftovers(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // name -> content; a name ending in / is a folder
		want  []string
	}{
		{"empty", nil, nil},
		{"config and checkpoint only", map[string]string{ConfigName: "{}", CheckpointName(5): "x"}, nil},
		{"empty metrics", map[string]string{MetricsName: ""}, nil},
		{"logs", map[string]string{MetricsName: "{}\n", SamplesDir + "/": "", WarningsName: "{}\n"},
			[]string{MetricsName, SamplesDir, WarningsName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				var err error
				if name[len(name)-1] == '/' {
					err = os.Mkdir(filepath.Join(dir, name), 0o755)
				} else {
					err = os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := Leftovers(dir); !slices.Equal(got, tt.want) {
				t.Errorf("Leftovers = %v, want %v", got, tt.want)
			}
		})
	}
}
