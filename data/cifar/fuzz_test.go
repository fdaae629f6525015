package cifar

import (
	"bytes"
	"testing"
)

func FuzzReadBatch(f *testing.F) {
	f.Add(batch(0, 1))
	f.Add(batch(3, 2))
	f.Add(append([]byte{10}, make([]byte, ImageSize)...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		pix, labels, err := ReadBatch("fuzz.bin", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if len(b) != len(labels)*RecordSize || len(pix) != len(labels)*ImageSize {
			t.Fatalf("%d records, %d pixel bytes from %d bytes", len(labels), len(pix), len(b))
		}
		for i, l := range labels {
			if l < 0 || l >= NumClasses || int(b[i*RecordSize]) != l ||
				!bytes.Equal(pix[i*ImageSize:(i+1)*ImageSize], b[i*RecordSize+1:(i+1)*RecordSize]) {
				t.Fatalf("record %d decoded wrongly", i)
			}
		}
	})
}
