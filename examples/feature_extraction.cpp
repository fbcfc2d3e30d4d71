// Feature vectors from a pretrained network, and the nearest neighbours of
// the first image among the rest: what `nib index` and `nib retrieve` do,
// through the C++ API.
//
//   build/examples/feature_extraction WEIGHTS IMAGE...
//   e.g. WEIGHTS = ../shared/data/pretrained/mobilenet_v2_tflite_dequant.safetensors (or imagenet)
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "nib/nib.h"

using namespace nib;

int main(int argc, char** argv) try {
  NIB_CHECK(argc >= 4, "usage: feature_extraction WEIGHTS IMAGE IMAGE...");
  retrieval::ExtractorOptions options;
  options.model = "mobilenet_v2";
  options.weights = argv[1];
  options.l2_normalize = true;  // cosine similarity is then a dot product
  retrieval::FeatureExtractor extractor(options);
  const std::vector<std::string> images(argv + 2, argv + argc);
  Tensor features = extractor.extract_files(images, /*progress=*/false);  // [N, D]
  std::printf("%lld images -> features %s from layer %s\n", static_cast<long long>(images.size()),
              features.shape().str().c_str(), extractor.layer().c_str());

  // Similarity of every image to the first: one matrix product.
  Tensor similarity = ops::matmul(features, features.slice_rows(0, 1).reshape({-1, 1}));  // [N, 1]
  std::vector<float> s = similarity.to_vector();
  std::vector<size_t> order(s.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin() + 1, order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  std::printf("most similar to %s:\n", images[0].c_str());
  for (size_t k = 1; k < std::min<size_t>(order.size(), 5); ++k)
    std::printf("  %.3f  %s\n", s[order[k]], images[order[k]].c_str());
  return 0;
} catch (const Error& e) {
  std::fprintf(stderr, "feature_extraction: %s\n", e.what());
  return 1;
}
