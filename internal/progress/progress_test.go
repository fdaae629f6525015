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

func TestSetDescribePrintf(t *testing.T) {
	live := false
	tests := []struct {
		name string
		live *bool
		sets []int64
		want []string // substrings, one per line, in order
	}{
		{"plain: Set counts forward", &live, []int64{3, 7}, []string{"note 7", "x: 7/10 steps in "}},
		{"plain: Set back", &live, []int64{7, 2}, []string{"note 2", "x: 2/10 steps in "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			b := New(&buf, 10, Options{Desc: "x", Unit: "steps", Every: time.Hour, Live: tc.live})
			for _, n := range tc.sets {
				b.Set(n)
			}
			b.Describe("ignored without a live bar")
			b.Printf("note %d", tc.sets[len(tc.sets)-1])
			b.Finish()
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %q, want %d lines", buf.String(), len(tc.want))
			}
			for i, want := range tc.want {
				if !strings.Contains(lines[i], want) {
					t.Errorf("line %d = %q, want it to contain %q", i, lines[i], want)
				}
			}
		})
	}
	var nilBar *Bar // silent
	nilBar.Set(3)
	nilBar.Describe("x")
	nilBar.Printf("x")
}

// A live bar keeps the messages printed through it and ends its line on Finish, complete or not.
func TestLivePrintf(t *testing.T) {
	live := true
	for _, upto := range []int64{4, 10} {
		var buf bytes.Buffer
		b := New(&buf, 10, Options{Unit: "steps", Live: &live})
		b.Set(2)
		b.Describe("loss 1")
		b.Printf("step %d: saved", 2)
		b.Set(upto)
		b.Finish()
		if out := buf.String(); !strings.Contains(out, "step 2: saved\n") || !strings.HasSuffix(out, "\n") {
			t.Errorf("upto %d: output %q", upto, out)
		}
	}
}
