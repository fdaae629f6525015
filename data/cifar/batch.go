package cifar

import (
	"errors"
	"fmt"
	"io"
)

// Record layout of the binary version: 1 label byte, then the 1024 red, 1024
// green and 1024 blue values, each plane a row-major 32x32 image (so the
// pixels are already in CHW order).
const (
	Side         = 32
	ImageSize    = 3 * Side * Side
	RecordSize   = 1 + ImageSize
	NumClasses   = 10
	BatchRecords = 10000 // records in each official batch file
)

// Classes are the names of the labels 0..9.
var Classes = [NumClasses]string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// checkSize validates the byte size of a batch file and returns its number
// of records.
func checkSize(name string, size int64) (int, error) {
	switch {
	case size == 0:
		return 0, fmt.Errorf("cifar: %s: empty file", name)
	case size%RecordSize != 0:
		return 0, fmt.Errorf("cifar: %s: file size %d is not a multiple of the record size %d (truncated or not a CIFAR-10 binary batch)", name, size, RecordSize)
	case size/RecordSize > 1<<24:
		return 0, fmt.Errorf("cifar: %s: file size %d is implausibly large for a batch", name, size)
	}
	return int(size / RecordSize), nil
}

// ReadBatch decodes a whole batch file of size bytes from r: the images (CHW,
// ImageSize bytes each) and their labels.
func ReadBatch(name string, r io.Reader, size int64) (pix []uint8, labels []int, err error) {
	n, err := checkSize(name, size)
	if err != nil {
		return nil, nil, err
	}
	pix, labels = make([]uint8, n*ImageSize), make([]int, n)
	if err := decodeRecords(name, r, pix, labels); err != nil {
		return nil, nil, err
	}
	return pix, labels, nil
}

// decodeRecords reads len(labels) records from r into pix and labels.
func decodeRecords(name string, r io.Reader, pix []uint8, labels []int) error {
	var lbl [1]byte
	for i := range labels {
		if _, err := io.ReadFull(r, lbl[:]); err != nil {
			return truncated(name, i, err)
		}
		if lbl[0] >= NumClasses {
			return fmt.Errorf("cifar: %s: record %d (byte offset %d): label %d is not in 0..%d", name, i, int64(i)*RecordSize, lbl[0], NumClasses-1)
		}
		labels[i] = int(lbl[0])
		if _, err := io.ReadFull(r, pix[i*ImageSize:(i+1)*ImageSize]); err != nil {
			return truncated(name, i, err)
		}
	}
	return nil
}

func truncated(name string, record int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("cifar: %s: truncated in record %d: %w", name, record, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("cifar: %s: reading record %d: %w", name, record, err)
}
