// The subcommands of the `nib` binary, one file each in apps/.
#pragma once

#include "util/args.h"

namespace nib::apps {

// Each returns the process exit code; errors are thrown as nib::Error and
// turned into a one-line message by main().
int train(int argc, char** argv);
int models(int argc, char** argv);
int predict(int argc, char** argv);
int eval(int argc, char** argv);
int classify(int argc, char** argv);
int convert(int argc, char** argv);
int layers(int argc, char** argv);
int graph(int argc, char** argv);
int debug_forward(int argc, char** argv);
int finetune(int argc, char** argv);
int extract(int argc, char** argv);
int index(int argc, char** argv);
int retrieve(int argc, char** argv);
int eval_retrieval(int argc, char** argv);
int bench_retrieval(int argc, char** argv);
int bench(int argc, char** argv);
int data(int argc, char** argv);

}  // namespace nib::apps
