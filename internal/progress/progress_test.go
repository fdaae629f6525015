package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPlainLines(t *testing.T) {
	tests := []struct {
		name      string
		o         Options
		adds      []int64
		wantLines []string // substrings, one per line, in order
	}{
		{"final line only", Options{Desc: "x", Unit: "img", Every: time.Hour}, []int64{3, 4},
			[]string{"x: 7/10 img in "}},
		{"periodic lines", Options{Desc: "y", Unit: "img", Every: time.Nanosecond}, []int64{2, 3, 5},
			[]string{"y: 2/10 img (20%,", "y: 5/10 img (50%,", "y: 10/10 img in "}},
		{"bytes", Options{Desc: "dl", Bytes: true, Every: time.Hour}, []int64{2_500_000},
			[]string{"dl: 2.5/10.0 MB in "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			total := int64(10)
			if tc.o.Bytes {
				total = 10_000_000
			}
			b := New(&buf, total, tc.o)
			for _, n := range tc.adds {
				time.Sleep(time.Millisecond)
				b.Add(n)
			}
			b.Finish()
			b.Finish() // second call is a no-op
			b.Add(1)   // after Finish: ignored
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != len(tc.wantLines) {
				t.Fatalf("got %d lines %q, want %d", len(lines), buf.String(), len(tc.wantLines))
			}
			for i, want := range tc.wantLines {
				if !strings.Contains(lines[i], want) {
					t.Errorf("line %d = %q, want it to contain %q", i, lines[i], want)
				}
			}
		})
	}
}

func TestNilIsSilent(t *testing.T) {
	var buf bytes.Buffer
	for _, b := range []*Bar{New(nil, 10, Options{}), New(&buf, 0, Options{})} {
		if b != nil {
			t.Fatalf("New gave a non-nil bar for a nil writer or empty total")
		}
		b.Add(3)
		if _, err := b.Write([]byte("abc")); err != nil {
			t.Fatal(err)
		}
		b.Finish()
	}
	if buf.Len() != 0 {
		t.Fatalf("silent bar wrote %q", buf.String())
	}
}

func TestConcurrentAddAndLive(t *testing.T) {
	for _, live := range []bool{false, true} {
		var buf bytes.Buffer
		b := New(&buf, 800, Options{Desc: "c", Unit: "img", Live: &live})
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100; i++ {
					b.Add(1)
				}
			}()
		}
		wg.Wait()
		b.Finish()
		if b.n != 800 {
			t.Fatalf("live=%v: counted %d, want 800", live, b.n)
		}
		if !live && !strings.Contains(buf.String(), "c: 800/800 img in ") {
			t.Fatalf("plain output %q", buf.String())
		}
		if live && !strings.Contains(buf.String(), "800/800") {
			t.Fatalf("live output %q lacks the final count", buf.String())
		}
	}
}
