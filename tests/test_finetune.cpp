// Transfer learning (models/head.h, models/transfer.h, train/feature_cache.h):
// head specs, a frozen base that gets no gradients, no optimizer state and
// keeps its BatchNorm in inference mode, choosing the last K blocks to
// unfreeze, and training on cached features being the same computation as
// training through the frozen base.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "datasets/resize_images.h"
#include "layers/layers.h"
#include "models/head.h"
#include "models/transfer.h"
#include "ops/ops.h"
#include "optim/optim.h"
#include "tensor/autograd.h"
#include "tensor/random.h"
#include "tests/helpers.h"
#include "train/feature_cache.h"
#include "train/finetune.h"
#include "tests/temp_dir.h"
#include "util/files.h"

using namespace nib;
using nib::testing::error_of;
using nib::testing::random_tensor;
using nib::testing::relative_error;

namespace {

// A reduced-width MobileNetV2 base (features_only), cheap enough to run in a test.
ModulePtr small_base(const std::string& arch = "mobilenet_v2") {
  models::ModelSpec spec{arch, 3, 32, 1000, {{"width", "0.25"}, {"features_only", "true"}}};
  return models::build_model(spec);
}

std::shared_ptr<models::Transfer> small_transfer(const std::string& head, int64_t in_channels = 3,
                                                 uint64_t seed = 7) {
  manual_seed(seed);
  ModulePtr base = small_base();
  base->eval();
  Shape out;
  {
    NoGrad no_grad;
    out = (*base)(Tensor::zeros({1, 3, 32, 32})).shape();
  }
  auto head_module = models::build_head(models::parse_head(head), Shape({out[1], out[2], out[3]}), 4);
  return std::make_shared<models::Transfer>(base, head_module, models::Preprocess::Tf, in_channels);
}

// Gives every BatchNorm running statistics far from (0, 1), so that batch
// statistics and running statistics give clearly different outputs.
void perturb_batchnorm(Module& model) {
  uint64_t seed = 100;
  for (auto& [name, m] : model.named_modules())
    if (auto* bn = dynamic_cast<BatchNorm2d*>(m)) {
      ops::copy_(bn->running_mean, random_tensor(bn->running_mean.shape(), ++seed, 0.5f));
      ops::copy_(bn->running_var, ops::affine(random_tensor(bn->running_var.shape(), ++seed, 0.3f), 1.0f, 1.5f));
    }
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("head spec: parsing and the layers it builds") {
  auto layers = models::parse_head("gap,dense128,dropout0.5");
  REQUIRE(layers.size() == 3);
  CHECK(layers[0].kind == models::HeadLayer::GlobalPool);
  CHECK(layers[1].kind == models::HeadLayer::Dense);
  CHECK(layers[1].units == 128);
  CHECK(layers[2].kind == models::HeadLayer::Dropout);
  CHECK(layers[2].p == doctest::Approx(0.5));

  // gap on [8, 3, 3] -> 8 values; dense16; dropout; final Linear to 5 classes.
  auto head = models::build_head(models::parse_head("gap,dense16,dropout0.25"), Shape({8, 3, 3}), 5);
  std::vector<std::string> kinds;
  for (size_t i = 0; i < head->size(); ++i) kinds.push_back((*head)[i].describe().substr(0, 6));
  CHECK(kinds == std::vector<std::string>{"Global", "Flatte", "Linear", "ReLU()", "Dropou", "Linear"});
  Tensor y = (*head)(random_tensor({2, 8, 3, 3}, 1));
  CHECK(y.shape() == Shape({2, 5}));

  // flatten keeps every position: 8*3*3 inputs to the first Linear.
  auto flat = models::build_head(models::parse_head("flatten,dense4"), Shape({8, 3, 3}), 3);
  auto* first = dynamic_cast<Linear*>(&(*flat)[1]);
  REQUIRE(first);
  CHECK(first->weight.shape() == Shape({4, 72}));

  // An empty spec is just the final Linear (on flattened features).
  auto bare = models::build_head(models::parse_head(""), Shape({6}), 2);
  CHECK(bare->size() == 1);
}

TEST_CASE("head spec: errors name the item and the valid forms") {
  CHECK(error_of([] { models::parse_head("gap,conv3"); }).find("unknown layer 'conv3'") != std::string::npos);
  CHECK(error_of([] { models::parse_head("gap,conv3"); }).find("denseN") != std::string::npos);
  CHECK(error_of([] { models::parse_head("dense0"); }).find("positive unit count") != std::string::npos);
  CHECK(error_of([] { models::parse_head("dense12x"); }).find("'dense12x'") != std::string::npos);
  CHECK(error_of([] { models::parse_head("dropout1.5"); }).find("[0, 1)") != std::string::npos);
  CHECK(error_of([] { models::parse_head("gap,,dense8"); }).find("empty item") != std::string::npos);
  CHECK(error_of([] { models::build_head(models::parse_head("gap"), Shape({16}), 3); }).find("gap needs a feature map") !=
        std::string::npos);
  CHECK(error_of([] { models::build_head({}, Shape({16}), 1); }).find("at least 2 classes") != std::string::npos);
}

TEST_CASE("transfer: a frozen base gets no gradients and no optimizer state") {
  auto model = small_transfer("gap,dense8,dropout0.5");
  model->base->freeze();
  std::set<std::string> head_names;
  for (const auto& [name, p] : model->named_parameters())
    if (starts_with(name, "head.")) head_names.insert(name);
  REQUIRE(!head_names.empty());

  // Give the optimizer every parameter, as careless code would: frozen ones must still be skipped.
  NamedTensors named = model->named_parameters();
  auto optimizer = optim::make_optimizer("adam", model->parameters(), 0.01f, 0.9f, 0.0f);
  model->train();
  Tensor x = random_tensor({3, 3, 32, 32}, 2, 0.5f);
  Tensor labels = Tensor::empty({3}, kCPU, DType::I32);
  for (int i = 0; i < 3; ++i) labels.data_as<int32_t>()[i] = i;
  Tensor loss = ops::cross_entropy((*model)(x), labels);
  optimizer->zero_grad();
  loss.backward();
  for (const auto& [binding_name, p] : named) {
    const std::string& name = binding_name;  // clang 14 cannot capture a structured binding in CAPTURE
    CAPTURE(name);
    CHECK(p.grad().defined() == (head_names.count(name) > 0));
  }
  optimizer->step();
  // State names are "group0.param<P>.<field>": only head parameters may appear.
  std::set<size_t> with_state;
  for (const auto& [name, t] : optimizer->state_dict()) {
    size_t dot = name.find('.', 7);  // "group0.param" is 12 characters
    with_state.insert(std::stoul(name.substr(12, dot - 12)));
  }
  CHECK(!with_state.empty());
  for (size_t index : with_state) {
    CAPTURE(index);
    CHECK(head_names.count(named[index].first) == 1);
  }
}

TEST_CASE("transfer: BatchNorm of a frozen base stays in eval mode under train()") {
  auto model = small_transfer("gap,dropout0.3", 1);
  perturb_batchnorm(*model);
  Tensor x = random_tensor({4, 1, 32, 32}, 3, 0.5f);
  model->eval();
  Tensor expected = model->frozen_features(x);

  model->base->freeze();
  model->train();
  int64_t batchnorms = 0;
  for (auto& [binding_name, m] : model->base->named_modules())
    if (dynamic_cast<BatchNorm2d*>(m)) {
      const std::string& name = binding_name;  // clang 14 cannot capture a structured binding in CAPTURE
      ++batchnorms;
      CAPTURE(name);
      CHECK(!m->is_training());
    }
  CHECK(batchnorms > 10);
  CHECK((*model->head)[2].is_training());  // the head's dropout does train
  // Frozen features under train() are the eval-mode features (running statistics, unchanged).
  Tensor mean_before = dynamic_cast<BatchNorm2d*>(model->base->find("features.0.1"))->running_mean.clone();
  Tensor got = model->frozen_features(x);
  CHECK(relative_error(got, expected) < 1e-6);
  CHECK(relative_error(dynamic_cast<BatchNorm2d*>(model->base->find("features.0.1"))->running_mean, mean_before) == 0);

  // Unfrozen, the base keeps running statistics by default...
  model->base->unfreeze();
  model->train();
  CHECK(relative_error(model->frozen_features(x), expected) < 1e-6);
  // ...and uses batch statistics, a different result, when asked to.
  model->base_batchnorm_eval = false;
  model->train();
  CHECK(relative_error(model->frozen_features(x), expected) > 1e-3);

  // Then unfreezing the last block puts only its BatchNorms in training mode.
  model->base->freeze();
  models::unfreeze_last_blocks(*model, "mobilenet_v2", 1);
  model->train();
  for (auto& [binding_name, m] : model->base->named_modules())
    if (dynamic_cast<BatchNorm2d*>(m)) {
      const std::string& name = binding_name;  // clang 14 cannot capture a structured binding in CAPTURE
      CAPTURE(name);
      CHECK(m->is_training() == starts_with(name, "features.18."));
    }
}

TEST_CASE("transfer: unfreeze last:K chooses the last K blocks") {
  manual_seed(1);
  auto mobilenet = small_transfer("gap");
  mobilenet->base->freeze();
  auto names = models::unfreeze_last_blocks(*mobilenet, "mobilenet_v2", 3);
  CHECK(names == std::vector<std::string>{"features.18", "features.17", "features.16"});
  for (const auto& [binding_name, p] : mobilenet->base->named_parameters()) {
    const std::string& name = binding_name;  // clang 14 cannot capture a structured binding in CAPTURE
    CAPTURE(name);
    bool in_last = starts_with(name, "features.18.") || starts_with(name, "features.17.") ||
                   starts_with(name, "features.16.");
    CHECK(p.requires_grad() == in_last);
  }

  ModulePtr vgg = small_base("vgg16");
  CHECK(models::last_blocks("vgg16", *vgg, 3) == std::vector<std::string>{"features.28", "features.26", "features.24"});
  CHECK(models::last_blocks("vgg16", *vgg, 13).back() == "features.0");
  ModulePtr resnet = small_base("resnet18");
  CHECK(models::last_blocks("resnet18", *resnet, 3) == std::vector<std::string>{"layer4.1", "layer4.0", "layer3.1"});

  CHECK(error_of([&] { models::last_blocks("mobilenet_v2", *mobilenet->base, 20); })
            .find("mobilenet_v2 has 19 blocks, so K must be 1..19") != std::string::npos);
  CHECK(error_of([&] { models::last_blocks("resnet18", *resnet, 0); }).find("1..8") != std::string::npos);
  CHECK(error_of([&] { models::last_blocks("inception", *resnet, 1); }).find("no block list") != std::string::npos);
}

TEST_CASE("feature caching: one training step on cached features equals one through the frozen base") {
  // Two identical models (same seed), BatchNorm statistics made non-trivial in both.
  auto through = small_transfer("gap,dense8,dropout0.5", 1, 11);
  auto cached = small_transfer("gap,dense8,dropout0.5", 1, 11);
  for (auto* m : {through.get(), cached.get()}) {
    perturb_batchnorm(*m);
    m->base->freeze();
  }
  data::Dataset set;
  set.images = random_tensor({5, 1, 32, 32}, 4, 0.5f);
  set.labels = Tensor::empty({5}, kCPU, DType::I32);
  for (int i = 0; i < 5; ++i) set.labels.data_as<int32_t>()[i] = i % 4;
  set.class_names = data::numbered_classes(4);

  data::Dataset features = train::cache_features(*cached, set, kCPU, 2, /*quiet=*/true);
  CHECK(features.images.shape() == Shape({5, 1280}));  // gap output, flattened
  CHECK(features.labels.data_as<int32_t>()[3] == 3);
  models::TransferHead head(cached);

  // The same dropout masks on both sides.
  auto reseed = [](Module& m) {
    for (auto& [name, mod] : m.named_modules())
      if (auto* d = dynamic_cast<Dropout*>(mod)) d->generator().reseed(99);
  };
  auto step = [&](Module& model, const Tensor& inputs) {
    auto optimizer = optim::make_optimizer("sgd", model.parameters(), 0.1f, 0.0f, 0.0f);
    model.train();
    reseed(model);
    Tensor logits = model(inputs);
    Tensor loss = ops::cross_entropy(logits, set.labels);
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    return logits.detach();
  };
  Tensor logits_through = step(*through, set.images);
  Tensor logits_cached = step(head, features.images);
  CHECK(relative_error(logits_cached, logits_through) < 1e-5);
  NamedTensors a = through->state_dict(), b = cached->state_dict();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].first);
    CHECK(a[i].first == b[i].first);
    if (a[i].second.dtype() == DType::F32) CHECK(relative_error(a[i].second, b[i].second) < 1e-5);
  }
  // The head's state dict names are the Transfer's own.
  CHECK(head.state_dict().front().first == "head.2.weight");

  // Caching refuses a base with trainable parameters.
  models::unfreeze_last_blocks(*cached, "mobilenet_v2", 1);
  CHECK(error_of([&] { train::cache_features(*cached, set, kCPU, 2, true); }).find("features.18") !=
        std::string::npos);
}

TEST_CASE("transfer: rebuilt from its ModelSpec, grayscale input, errors") {
  models::TransferConfig config;
  config.arch = "mobilenet_v2";
  config.padding = "tf_same";
  config.preprocess = models::Preprocess::Tf;
  config.head = "gap,dense8";
  config.in_channels = 1;
  config.image_size = 32;
  config.classes = 3;
  models::ModelSpec spec = models::transfer_spec(config);
  CHECK(spec.name == "transfer");
  CHECK(spec.options.at("head") == "gap,dense8");
  ModulePtr rebuilt = models::build_model(spec);
  auto* transfer = dynamic_cast<models::Transfer*>(rebuilt.get());
  REQUIRE(transfer);
  CHECK(transfer->preprocess == models::Preprocess::Tf);
  CHECK(rebuilt->state_dict().front().first == "base.features.0.0.weight");
  rebuilt->eval();
  NoGrad no_grad;
  CHECK((*rebuilt)(Tensor::zeros({2, 1, 32, 32})).shape() == Shape({2, 3}));
  CHECK(error_of([&] { (*rebuilt)(Tensor::zeros({2, 3, 32, 32})); }).find("expected images [N, 1, H, W]") !=
        std::string::npos);
  spec.options["size"] = "3";
  CHECK(error_of([&] { models::build_model(spec); }).find("unknown option 'size'") != std::string::npos);
}

TEST_CASE("resize_images: 28x28 digits to 32x32, constant images stay constant") {
  data::Dataset set;
  set.images = Tensor::full({2, 1, 28, 28}, 0.25f);
  set.images.data()[28 * 28 + 5] = 1.0f;  // a bright pixel in the second image only
  data::Dataset resized = data::resize_images(set, 32);
  CHECK(resized.images.shape() == Shape({2, 1, 32, 32}));
  std::vector<float> v = resized.images.to_vector();
  for (int i = 0; i < 32 * 32; ++i) CHECK(v[i] == doctest::Approx(0.25f));
  float brightest = 0;
  for (int i = 32 * 32; i < 2 * 32 * 32; ++i) brightest = std::max(brightest, v[i]);
  CHECK(brightest > 0.5f);
  CHECK(data::resize_images(resized, 32).images.data() == resized.images.data());  // already that size
}

// ---- The two-stage policy (train/finetune.h) ----------------------------------------

namespace {

data::Dataset tiny_set(int64_t n, uint64_t seed) {
  data::Dataset set;
  set.images = random_tensor({n, 3, 32, 32}, seed, 0.5f);
  set.labels = Tensor::empty({n}, kCPU, DType::I32);
  for (int64_t i = 0; i < n; ++i) set.labels.data_as<int32_t>()[i] = static_cast<int32_t>(i % 4);
  set.class_names = data::numbered_classes(4);
  return set;
}

// Copies of every parameter, to see which a run changed.
std::map<std::string, Tensor> snapshot(const Module& model) {
  std::map<std::string, Tensor> copies;
  for (const auto& [name, p] : model.named_parameters()) copies[name] = p.clone();
  return copies;
}

// Whether any parameter whose name starts with `prefix` differs between two snapshots.
bool changed(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b,
             const std::string& prefix) {
  bool found = false;
  for (const auto& [name, t] : a) {
    if (name.rfind(prefix, 0) != 0) continue;
    found = true;
    if (t.to_vector() != b.at(name).to_vector()) return true;
  }
  REQUIRE_MESSAGE(found, "no parameter starts with ", prefix);
  return false;
}

train::FinetuneOptions two_stages() {
  train::FinetuneOptions options;
  options.unfreeze_last = 1;
  options.unfreeze_after = 1;
  options.config.epochs = 2;
  options.config.batch_size = 4;
  options.config.quiet = true;
  return options;
}

}  // namespace

TEST_CASE("finetune: stage 1 trains the head alone, stage 2 the last K blocks too, each with its checkpoint") {
  for (bool cache : {false, true}) {
    CAPTURE(cache);
    auto model = small_transfer("gap,dense8");
    train::TrainingData data;
    data.train = tiny_set(8, 1);
    data.validation = tiny_set(4, 2);
    nib::testing::TempDir dir;
    train::FinetuneOptions options = two_stages();
    options.cache_features = cache;

    // Stage 1 alone (--stop-after 1): the base is untouched.
    options.config.stop_after = 1;
    auto before = snapshot(*model);
    train::History history = train::finetune(model, "mobilenet_v2", data, options, dir.path(), false);
    CHECK(history.interrupted);
    REQUIRE(history.epochs.size() == 1);
    auto after_one = snapshot(*model);
    CHECK(changed(after_one, before, "head."));
    CHECK_FALSE(changed(after_one, before, "base."));
    CHECK(file_exists(dir.path() + "/checkpoint.safetensors"));

    // Resumed: stage 2 trains features.18 and nothing earlier in the base.
    options.config.stop_after = 0;
    history = train::finetune(model, "mobilenet_v2", data, options, dir.path(), true);
    CHECK_FALSE(history.interrupted);
    REQUIRE(history.epochs.size() == 2);
    CHECK(history.epochs[1].epoch == 2);
    auto after_two = snapshot(*model);
    CHECK(changed(after_two, after_one, "base.features.18."));
    CHECK_FALSE(changed(after_two, before, "base.features.17."));
    CHECK_FALSE(changed(after_two, before, "base.features.0."));
    CHECK(file_exists(dir.path() + "/checkpoint-unfrozen.safetensors"));
  }
}

TEST_CASE("finetune: options that do not go together are refused before any work") {
  auto check = [](const std::function<void(train::FinetuneOptions&)>& change, const std::string& message) {
    train::FinetuneOptions options = two_stages();
    change(options);
    CHECK(error_of([&] { options.validate(); }).find(message) != std::string::npos);
  };
  check([](auto& o) { o.freeze = "head"; }, "--freeze expects base or none");
  check([](auto& o) { o.freeze = "none"; }, "--unfreeze needs a frozen base");
  check([](auto& o) { o.unfreeze_after = 2; }, "leaves no epoch for the frozen or the unfrozen stage");
  check(
      [](auto& o) {
        o.unfreeze_last = 0;
        o.freeze = "none";
        o.cache_features = true;
      },
      "--cache-features needs a frozen base");
  check(
      [](auto& o) {
        o.cache_features = true;
        o.augment = data::AugmentConfig::parse("digits");
      },
      "cannot be combined with --augment");
}

TEST_CASE("finetune: --unfreeze auto unfreezes the last blocks on small data only") {
  // Small data, frozen base: the recipe of bench/results/finetune.md (last 6 blocks of MobileNetV2).
  train::UnfreezeChoice small = train::choose_unfreeze("auto", "mobilenet_v2", "base", 4193, 10);
  CHECK(small.blocks == 6);
  CHECK(small.why.find("4193 training images <= 10000") != std::string::npos);
  CHECK(train::choose_unfreeze("auto", "resnet18", "base", 100, 10).blocks == 2);
  CHECK(train::choose_unfreeze("auto", "vgg16", "base", 100, 10).blocks == 3);
  CHECK(train::choose_unfreeze("auto", "mobilenet_v2", "base", train::kSmallTrainingSet, 10).blocks == 6);
  // Larger data, nothing frozen, or one epoch: the head alone, with the reason.
  train::UnfreezeChoice large = train::choose_unfreeze("auto", "mobilenet_v2", "base", 54000, 10);
  CHECK(large.blocks == 0);
  CHECK(large.why.find("54000 training images > 10000") != std::string::npos);
  CHECK(train::choose_unfreeze("auto", "mobilenet_v2", "none", 100, 10).blocks == 0);
  CHECK(train::choose_unfreeze("auto", "mobilenet_v2", "base", 100, 1).blocks == 0);
  // A converted Keras model has no known blocks: the head alone, and it says why.
  train::UnfreezeChoice keras = train::choose_unfreeze("auto", "keras_graph", "base", 100, 10);
  CHECK(keras.blocks == 0);
  CHECK(keras.why.find("converted Keras model") != std::string::npos);
  CHECK(train::choose_unfreeze("last:2", "keras_graph", "base", 100, 10).blocks == 2);
  // Explicit choices win whatever the data.
  CHECK(train::choose_unfreeze("last:3", "mobilenet_v2", "base", 54000, 10).blocks == 3);
  CHECK(train::choose_unfreeze("none", "mobilenet_v2", "base", 100, 10).blocks == 0);
  CHECK(error_of([] { train::choose_unfreeze("last:x", "mobilenet_v2", "base", 100, 10); })
            .find("--unfreeze expects last:K") != std::string::npos);
  CHECK(error_of([] { train::choose_unfreeze("some", "mobilenet_v2", "base", 100, 10); })
            .find("none or auto") != std::string::npos);
}
