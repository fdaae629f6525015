// Package checkpoints holds dmmd's on-disk formats: safetensors files and the run directory.
//
// # Safetensors
//
// Every tensor file dmmd writes is a plain safetensors file (an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the little-endian row-major data), so
// safetensors.torch.load_file opens it in Python. A [Writer] collects named tensors and string metadata and
// writes them with [Writer.Write] or, atomically, with [Writer.WriteFile]. [ReadFile] reads a file back and
// validates it strictly; the typed getters ([File.F32], [File.F64], [File.I64], [File.U8]) copy tensors out.
//
// Every file the Writer produces carries two metadata entries of its own: "dmmd.format" (the format version,
// [FormatVersion]) and "dmmd.checksum" ("sha256:<hex>" over the tensor index, every other metadata entry and
// the data), so a truncated or bit-flipped file is always rejected with an error that names it. Files from
// elsewhere (exported by PyTorch, say) lack the checksum and are read with ReadOptions.AllowNoChecksum.
//
// # Run directory
//
// A [Run] is a training run's directory:
//
//	config.json                    the resolved configuration, with format and program versions
//	ckpt-000001000.safetensors     one checkpoint per saved step (step zero-padded to 9 digits)
//	ckpt-000002000.safetensors
//	latest                         names the checkpoint to resume from ("ckpt-000002000.safetensors\n")
//
// Every file is written to a temporary file in the same directory, fsynced, renamed into place and the
// directory fsynced, so a crash leaves either the old or the new file, never a torn one. [Run.Save] writes the
// checkpoint first and moves the latest pointer second: the pointer is the commit point. [Run.Latest] loads and
// verifies the checkpoint to resume from, [Run.Keep] prunes old ones. The tensor names and the other files of a
// run are package rundir's; [File.CheckShapes] compares a file against the names and shapes a configuration implies.
//
// One process writes to a run directory at a time.
package checkpoints
