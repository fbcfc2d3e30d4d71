// The basic CNN of the seed assignment:
//
//   conv 5x5 -> ReLU -> max pool 2 -> conv 5x5 -> ReLU -> max pool 2
//   -> flatten -> dense + ReLU -> dropout -> dense (logits)
//
// The defaults (32 and 64 filters without padding, 128 hidden units, dropout
// 0.3) were chosen to reach > 99.3% on MNIST in a few CPU minutes: 'valid'
// convolutions shrink 28x28 to 24 -> 12 -> 8 -> 4, which costs about a third
// of the FLOPs of 'same' padding for the same accuracy at this size.
// Works for any input size where the convolutions fit (28x28x1, 100x100x3...);
// larger inputs may take more conv blocks (option blocks; nib train picks it
// by input size, basic_cnn_blocks_for below).
#pragma once

#include "layers/sequential.h"

namespace nib::models {

struct BasicCnnConfig {
  int64_t in_channels = 1;
  int64_t image_size = 28;
  int64_t classes = 10;
  int64_t conv1_channels = 32;
  int64_t conv2_channels = 64;
  int64_t kernel = 5;
  bool same_padding = false;  // pad so each conv keeps its input size
  int64_t blocks = 2;         // conv-ReLU-pool blocks; the third and later have conv2_channels filters
  int64_t hidden = 128;
  float dropout = 0.3f;
};

// Children are named like a torch.nn.Sequential: "0" (conv1) ... "10" (logits)
// with two blocks; each further block adds three.
std::shared_ptr<Sequential> basic_cnn(const BasicCnnConfig& config);

// The fewest blocks (at least 2) after which the dense layer sees at most
// max_side x max_side positions. Two blocks suit MNIST (4x4) and 64x64 input
// (13x13); at 100x100 they leave 22x22x64 = 31k inputs to a dense layer with
// 4 M weights, which on a few thousand images learns where strokes lie rather
// than what they form: a third block leaves 9x9 (99.68% instead of 99.36% on
// the digit folder, bench/results/defaults.md).
int64_t basic_cnn_blocks_for(BasicCnnConfig config, int64_t max_side = 16);

}  // namespace nib::models
