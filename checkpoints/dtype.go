package checkpoints

// DType is a safetensors element type, spelled as in the header ("F32", "I64", ...).
type DType string

// The element types. The Writer's typed helpers produce F32, F64, I64 and U8; [Writer.Add] and the reader
// accept every dtype listed here, and [File.Tensor] hands out their raw bytes.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U64  DType = "U64"
	U32  DType = "U32"
	U16  DType = "U16"
	U8   DType = "U8"
	Bool DType = "BOOL"
	// F8E4M3 and F8E5M2 are the 8-bit float formats of PyTorch's float8_e4m3fn and float8_e5m2.
	F8E4M3 DType = "F8_E4M3"
	F8E5M2 DType = "F8_E5M2"
)

// Size returns the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, Bool, F8E4M3, F8E5M2:
		return 1
	}
	return 0
}
