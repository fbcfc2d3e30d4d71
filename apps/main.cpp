// nib: one binary, many subcommands (nib train, nib predict, ...), each a thin
// file in apps/ that parses its options and calls into the library.
#include <cstdio>
#include <cstring>
#include <string>

#include "apps/commands.h"
#include "distributed/world.h"
#include "util/error.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

const Command kCommands[] = {
    {"train", "train a model (default: the basic CNN on MNIST) and write reports", nib::apps::train},
    {"finetune", "transfer learning: a pretrained base with a new head, frozen or partly unfrozen",
     nib::apps::finetune},
    {"predict", "classify images or a data set with a trained run (Kaggle submission CSV)", nib::apps::predict},
    {"eval", "score a trained run on labelled data: accuracy and confusion matrix", nib::apps::eval},
    {"classify", "top-5 ImageNet classes of images with a pretrained network", nib::apps::classify},
    {"extract", "save one layer's features of a folder of images", nib::apps::extract},
    {"index", "build or update a searchable index of a folder of images", nib::apps::index},
    {"retrieve", "the images of an index most similar to query images, as a list and a grid", nib::apps::retrieve},
    {"eval-retrieval", "precision@k and mAP of an index (leave-one-out or labelled queries)",
     nib::apps::eval_retrieval},
    {"bench-retrieval", "time a brute-force top-k search on random features", nib::apps::bench_retrieval},
    {"models", "list the models nib can build, with parameter counts", nib::apps::models},
    {"data", "the data sets and weights nib downloads by name: what is here, and where", nib::apps::data},
    {"convert", "a PyTorch checkpoint as safetensors; a Keras .h5/.keras model as a run directory",
     nib::apps::convert},
    {"layers", "every named module of a model with its output shape and parameters", nib::apps::layers},
    {"graph", "the autograd graph of a model's training step, as Graphviz DOT", nib::apps::graph},
    {"debug-forward", nullptr, nib::apps::debug_forward},  // hidden: layer outputs for comparison scripts
    {"bench", "benchmarks: CPU kernels, a training step (vs PyTorch), CUDA kernels", nib::apps::bench},
};

void usage() {
  std::printf("nib — a deep-learning framework in C++20 and CUDA\n\nusage: nib <command> [options]\n\n");
  for (const Command& c : kCommands)
    if (c.summary) std::printf("  %-16s %s\n", c.name, c.summary);
  std::printf("\n`nib <command> --help` describes a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage();
    return argc < 2 ? 1 : 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    // In a distributed run (nib train under mpirun) an error ends every rank
    // at once, so none is left waiting for this one; "rank 1/4: " says whose.
    auto report = [&](const char* message) {
      std::fflush(stdout);  // MPI_Abort ends the process without flushing it
      std::fprintf(stderr, "nib %s: error: %s%s\n", c.name, nib::distributed::rank_prefix().c_str(), message);
      nib::distributed::abort_world(1);
      return 1;
    };
    try {
      int code = c.run(argc, argv);
      nib::distributed::leave_world();
      return code;
    } catch (const nib::Error& e) {
      return report(e.what());
    } catch (const std::bad_alloc&) {
      return report("out of host memory");
    } catch (const std::exception& e) {
      return report(e.what());
    }
  }
  std::fprintf(stderr, "nib: unknown command '%s'\n\n", argv[1]);
  usage();
  return 1;
}
