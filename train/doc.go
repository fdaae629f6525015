// Package train is the DMMD training loop: per step one noise level t, two independent clean batches (one
// forward-noised to x_t), the critic loss and its exact gradient (package model), Adam and the EMA; with exact
// resume, crash-safe checkpoints, metrics and a loss chart.
//
// A run directory holds
//
//	config.json                 the resolved Config (format and program versions, settings changed on resume)
//	ckpt-<step>.safetensors     parameters, EMA, Adam moments, step, RNG and data-sampler state
//	latest                      the checkpoint to resume from
//	metrics.jsonl               one JSON record per step (Record)
//	loss.png                    the loss terms against the step, redrawn at every checkpoint
//	samples/step-<step>.png     sample grids from the EMA weights (every Config.Sample.Every steps)
//	samples/scores.jsonl        each grid's pixel MMD^2 to the data (SampleScore; with Config.Sample.Refs)
//	diagnostics.jsonl           the critic diagnostics of every checkpoint's EMA weights (CriticDiag; -diag-n)
//	diagnostics.png             their most telling quantities against the step, one line per level
//	warnings.jsonl              optional diagnostics that failed, and why (Warning)
//
// Same configuration, same seed: the same loss curve, bit for bit, whether or not the run was interrupted and
// resumed in between.
package train
