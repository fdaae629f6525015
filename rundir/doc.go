// Package rundir owns a training run's directory: the name of every file in it, which names are a run's own, and
// the schema of its checkpoints (which tensors and metadata they hold, how a reader gets the sampling weights and
// the run's configuration back). The trainer (package train), the sampler (package sample, for its stored mean
// embeddings) and the commands that read a run (cmd/sample, cmd/diagnose) take every name from here; the file
// protocol itself (atomic checkpoints, the latest pointer, config.json, pruning) is checkpoints.Run's.
//
// # Layout
//
//	config.json                          the resolved training configuration (checkpoints.Run.WriteConfig)
//	ckpt-000001000.safetensors           checkpoints (CheckpointName; the newest -keep kept)
//	latest                               the checkpoint to resume from
//	metrics.jsonl                        one line per step (MetricsName)
//	loss.png                             the loss chart (LossChartName)
//	samples/step-000001000.png           training-time sample grids (SamplesDir, GridName)
//	samples/scores.jsonl                 their scores (ScoresName, in SamplesDir)
//	diagnostics.jsonl, diagnostics.png   critic diagnostics and their chart (DiagnosticsName, DiagChartName)
//	warnings.jsonl                       optional diagnostics that failed (WarningsName)
//	embeddings-<step>-<key>.safetensors  mean embeddings stored by the sampler (EmbeddingsName)
//	.<name>.tmp-<digits>                 temporary files of crash-safe writes (internal/atomicfile)
//
// [Ours] says whether a name is one of these; a directory holding anything else is not a run.
//
// # Checkpoint schema
//
// A checkpoint (a safetensors file, package checkpoints) holds every model parameter four times, prefixed by the
// [Weights] set it belongs to: "params." (the trained weights), "ema." (their EMA, the sampling weights), "adam_m."
// and "adam_v." (Adam's moments); the counters [TensorStep], [TensorAdamStep], [TensorEMAUpdates] (I64 [1]); the
// random and data-sampler states [TensorRNG], [TensorSampler] (U8 blobs); and the run's configuration as JSON in
// the metadata entry [MetaTrainConfig]. [ExpectedShapes] lists every tensor with its shape. A reader opens a
// checkpoint or a run with [Open] and takes the sampling weights with [LoadEMA], which needs only this package.
package rundir
