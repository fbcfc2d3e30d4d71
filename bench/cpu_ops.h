// `nib bench cpu`: every CPU op of a training step, "reference" against
// "fast", on the shapes nib's models actually run; where nib was built with
// oneDNN (libdnnl-dev), conv2d, max pooling and batch norm race its "dnnl"
// variants too, the library baseline (as cuDNN is on the GPU).
//
// For each op, shape and pass (forward, backward data, backward weight) it
// times both implementations (median of repeats after a warm-up) and
// prints GFLOP/s — or GB/s for the memory-bound ops (pooling, batch norm,
// softmax), counting each tensor read or written once — and the ratios
// fast/reference and fast/dnnl (how many times faster fast is). Writes
// DIR/NAME.json and .md with the CPU model, the date and the load average.
//
// Options: --threads N (default: all cores), --quick (a few cases, short
// budgets), --ref-limit GFLOP (skip the reference for calls above this many
// GFLOP, default 2: its seven loops take minutes on a VGG layer),
// --budget S (seconds of timing per implementation and case, default 0.5),
// --only TEXT[,TEXT...] (only the ops whose name contains one of them, e.g.
// conv2d or mnist), --no-dnnl (do not time the oneDNN variants),
// --out DIR (default bench/results), --name NAME (default cpu_ops_<date>).
#pragma once

namespace nib::bench {

int cpu_ops(int argc, char** argv);  // argv[0] is "cpu"

}  // namespace nib::bench
