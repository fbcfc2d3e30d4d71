// nib convert for Keras files (models/keras/, models/keras/): every layer of
// the converted model against a PyTorch re-implementation of the stored
// Keras layers (tests/fixtures/keras/, from tools/fixtures/keras_models.py),
// in each of Keras' three layouts; run directories; Keras Applications onto
// nib's own architectures; and the one-line errors for bad files.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "formats/hdf5_file.h"
#include "formats/safetensors.h"
#include "helpers.h"
#include "layers/state_dict.h"
#include "models/keras/converter.h"
#include "models/keras/keras_graph.h"
#include "models/keras/keras_layers.h"
#include "models/keras/model_config.h"
#include "models/keras/weight_store.h"
#include "models/pretrained.h"
#include "models/transfer.h"
#include "shared_data.h"
#include "temp_dir.h"
#include "train/run_dir.h"
#include "util/files.h"

using namespace nib;
using namespace nib::testing;
using formats::keras::convert_keras_model;

namespace {

const bool kNoHdf5 = !hdf5::available();

std::string fixture(const std::string& name) { return std::string(NIB_FIXTURE_DIR) + "/keras/" + name; }

// NHWC (Keras) <-> NCHW (nib) for 4-D tensors; others unchanged, except an
// input image [N, H, W] (a Keras input without channels), which nib takes as [N, 1, H, W].
Tensor to_nib(const Tensor& keras) {
  if (keras.dim() == 3) return keras.reshape({keras.size(0), 1, keras.size(1), keras.size(2)});
  return keras.dim() == 4 ? models::keras::nib_order(keras) : keras;
}
Tensor to_keras(const Tensor& nib) { return nib.dim() == 4 ? models::keras::keras_order(nib) : nib; }

// A layer's output in Keras' layout: NHWC maps, and a Flatten that flattens
// nib's C, H, W order (its next Dense reordered) back in Keras' H, W, C order.
// Dropouts after such a Flatten keep its order.
Tensor keras_layout(models::keras::KerasGraph& model, const std::string& layer, const Tensor& y) {
  std::string flattened = layer;
  while (model.graph().find(flattened)->class_name == "Dropout")
    flattened = model.graph().find(flattened)->inputs.at(0);
  auto* flatten = dynamic_cast<models::keras::KerasFlatten*>(model.find(flattened));
  if (!flatten || !flatten->channels_first) return to_keras(y);
  const std::string& input = model.graph().find(flattened)->inputs.at(0);
  Shape map = model.output_shape(input);
  if (map.rank() != 4) return y;
  return to_keras(y.reshape({y.size(0), map[1], map[2], map[3]})).flatten(1);
}

// Every layer's output for `input` (nib layout), by layer name.
std::map<std::string, Tensor> layer_outputs(models::keras::KerasGraph& model, const Tensor& input) {
  std::map<std::string, Tensor> out;
  for (const std::string& name : model.layer_names())
    model.find(name)->set_output_hook([&out, name](const Tensor& y) { out[name] = y; });
  {
    NoGrad no_grad;
    out["(output)"] = model(input);
  }
  for (const std::string& name : model.layer_names()) model.find(name)->set_output_hook(nullptr);
  return out;
}

// |nib - reference| <= 1e-5 + 1e-5 |reference| for every value (llm.c's per-element rule).
void check_matches(const Tensor& nib_keras_layout, const Tensor& reference, const std::string& what) {
  INFO(what);
  REQUIRE(nib_keras_layout.shape() == reference.shape());
  std::vector<float> a = nib_keras_layout.to_vector(), b = reference.to_vector();
  double worst = 0;
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double err = std::fabs(static_cast<double>(a[i]) - b[i]), allowed = 1e-5 + 1e-5 * std::fabs(b[i]);
    worst = std::max(worst, err / allowed);
    bad += err > allowed;
  }
  INFO("worst error is " << worst << " times the tolerance");
  CHECK(bad == 0);
}

struct Fixture {
  const char* file;
  const char* layout;
  int layers;  // layers nib builds (a final Softmax layer is left to nib)
};

const Fixture kFixtures[] = {
    {"k2_cnn.h5", "Keras 2 HDF5", 9},
    {"k2_functional.h5", "Keras 2 HDF5", 14},
    {"k2_mlp_flatten.h5", "Keras 2 HDF5", 3},
    {"k3_functional.h5", "Keras 3 HDF5", 9},
    {"k3_mlp_rgb.h5", "Keras 3 HDF5", 2},
    {"k3_sequential.keras", "Keras 3 archive (.keras)", 9},
    {"k3_functional_zip.keras", "Keras 3 archive (.keras)", 10},
};

}  // namespace

TEST_CASE("Keras' snake-case keys for .keras weights" * doctest::skip(kNoHdf5)) {
  using formats::keras::snake_case;
  CHECK(snake_case("Conv2D") == "conv2d");
  CHECK(snake_case("DepthwiseConv2D") == "depthwise_conv2d");
  CHECK(snake_case("BatchNormalization") == "batch_normalization");
  CHECK(snake_case("GlobalAveragePooling2D") == "global_average_pooling2d");
  CHECK(snake_case("ReLU") == "re_lu");
  CHECK(snake_case("Dense") == "dense");
}

TEST_CASE("every layer of converted Keras models matches the PyTorch reference, in all three layouts" *
          doctest::skip(kNoHdf5)) {
  for (const Fixture& f : kFixtures) {
    std::string name = f.file;
    CAPTURE(name);
    formats::keras::ConvertedModel converted = convert_keras_model(fixture(name));
    CHECK(converted.format == f.layout);
    CHECK(static_cast<int>(converted.model->layer_names().size()) == f.layers);

    SafeTensorsFile io = load_safetensors(fixture(name.substr(0, name.find('.')) + "_io.safetensors"));
    std::map<std::string, Tensor> expected(io.tensors.begin(), io.tensors.end());
    std::map<std::string, Tensor> got = layer_outputs(*converted.model, to_nib(expected.at("input")));
    int compared = 0;
    for (const std::string& layer : converted.model->layer_names()) {
      if (!expected.count(layer)) continue;
      check_matches(keras_layout(*converted.model, layer, got.at(layer)), expected.at(layer),
                    name + ": layer " + layer);
      ++compared;
    }
    // The MLP's fixture holds its two layers; the others every layer.
    CHECK(compared == f.layers);
    // The final softmax nib leaves out gives Keras' own output.
    bool softmax_left = false;
    for (const auto& note : converted.notes)
      softmax_left = softmax_left || note.find("final softmax") != std::string::npos;
    CHECK(expected.count("keras_output") == (softmax_left ? 1 : 0));
    if (softmax_left)
      check_matches(ops::softmax(got.at("(output)")), expected.at("keras_output"), name + ": softmax of the output");
  }
}

TEST_CASE("the converter records the input scaling and what it changed" * doctest::skip(kNoHdf5)) {
  auto cnn = convert_keras_model(fixture("k2_cnn.h5"));
  CHECK(cnn.spec.name == "keras_graph");
  CHECK(cnn.spec.in_channels == 1);
  CHECK(cnn.spec.image_size == 9);
  CHECK(cnn.spec.classes == 3);
  CHECK(cnn.spec.options.at("preprocess") == "none");  // the Keras MNIST habit: pixels / 255
  CHECK(cnn.keras_version == "2.15.0");
  REQUIRE(cnn.notes.size() == 2);
  CHECK(cnn.notes[0].find("softmax (dense_1)") != std::string::npos);
  CHECK(cnn.notes[1].find("dense's weights were reordered") != std::string::npos);
  // A model that starts with Rescaling takes raw pixels; an explicit choice wins.
  CHECK(convert_keras_model(fixture("k3_functional.h5")).spec.options.at("preprocess") == "raw");
  formats::keras::ConvertOptions tf;
  tf.preprocess = "tf";
  CHECK(convert_keras_model(fixture("k3_functional.h5"), tf).spec.options.at("preprocess") == "tf");
  tf.preprocess = "sideways";
  CHECK(error_of([&] { convert_keras_model(fixture("k2_cnn.h5"), tf); }).find("unknown preprocessing 'sideways'") !=
        std::string::npos);
}

TEST_CASE("the summary lists layers with Keras' output shapes and parameter counts" * doctest::skip(kNoHdf5)) {
  std::string text = formats::keras::summary(convert_keras_model(fixture("k2_cnn.h5")));
  INFO(text);
  CHECK(text.find("Model: \"sequential\" (Sequential, Keras 2 HDF5, Keras 2.15.0)") != std::string::npos);
  CHECK(text.find("conv2d_input (InputLayer)") != std::string::npos);
  // conv2d: 3x3x1x4 kernel + 4 biases; batch_normalization: 4 x (gamma, beta, mean, variance).
  CHECK(text.find("conv2d (Conv2D)") != std::string::npos);
  CHECK(text.find("(None, 5, 5, 4)") != std::string::npos);
  CHECK(text.find("(None, 3, 3, 6)") != std::string::npos);  // separable_conv2d, valid padding
  CHECK(text.find("(None, 54)") != std::string::npos);       // flatten
  // 40 + 16 + 0 + 80 + (72 + 48 + 6) + 0 + 440 + 0 + 27 = 729
  CHECK(text.find("Total params: 729") != std::string::npos);
  std::string functional = formats::keras::summary(convert_keras_model(fixture("k2_functional.h5")));
  CHECK(functional.find("Connected to") != std::string::npos);
  CHECK(functional.find("re_lu, conv2d_1") != std::string::npos);  // the Add's inputs
}

TEST_CASE("a converted model saved as a run directory rebuilds from config.json" * doctest::skip(kNoHdf5)) {
  TempDir dir;
  auto converted = convert_keras_model(fixture("k2_functional.h5"));
  train::RunInfo info;
  info.model = converted.spec;
  info.class_names = {"a", "b", "c"};
  save_module(*converted.model, dir.file("model.safetensors"));
  train::save_run_info(dir.str(), info);

  train::RunInfo loaded = train::load_run_info(dir.str());
  CHECK(loaded.model.graph == converted.spec.graph);
  ModulePtr rebuilt = models::build_model(loaded.model);
  load_module(*rebuilt, dir.file("model.safetensors"));
  rebuilt->eval();
  Tensor x = Tensor::uniform({2, 3, 8, 8}, *std::make_unique<Generator>(3), 0.0f, 1.0f);
  NoGrad no_grad;
  CHECK((*rebuilt)(x).to_vector() == (*converted.model)(x).to_vector());

  // features_only ends at the classifier's input (what nib finetune and nib index use).
  models::ModelSpec spec = loaded.model;
  spec.options["features_only"] = "true";
  auto features = std::dynamic_pointer_cast<models::keras::KerasGraph>(models::build_model(spec));
  REQUIRE(features);
  CHECK(features->layer_names().back() == "dense");
  CHECK((*features)(x).shape() == Shape{2, 4});
}

TEST_CASE("Keras VGG16 and MobileNetV2 convert onto nib's own architectures" * doctest::skip(kNoHdf5)) {
  TempDir dir;
  SUBCASE("VGG16 without its top, reduced width") {
    auto converted = convert_keras_model(fixture("app_vgg16.h5"));
    REQUIRE(converted.application);
    CHECK(converted.spec.options.at("preprocess") == "caffe");
    std::map<std::string, std::string> metadata;
    NamedTensors weights = formats::keras::application_weights(converted, metadata);  // checks outputs agree
    CHECK(metadata.at("arch") == "vgg16");
    CHECK(metadata.at("preprocess") == "caffe");
    CHECK(metadata.at("width") == "0.03125");
    CHECK(metadata.at("features_only") == "true");  // saved without its top
    CHECK(weights.size() == 26);
    CHECK(weights.front().first == "features.0.weight");
    // nib finetune --weights takes it as a base.
    save_safetensors(dir.file("vgg.safetensors"), weights, metadata);
    models::TransferConfig config;
    config.arch = "vgg16";
    config.image_size = 32;
    config.padding = "";
    auto transfer = models::load_transfer(config, dir.file("vgg.safetensors"));
    CHECK(config.padding == "tf_same");
    CHECK(transfer->preprocess == models::Preprocess::Caffe);
  }
  SUBCASE("MobileNetV2 with its top (.keras, alpha 0.1, 5 classes)") {
    auto converted = convert_keras_model(fixture("app_mobilenet_v2.keras"));
    REQUIRE(converted.application);
    std::map<std::string, std::string> metadata;
    NamedTensors weights = formats::keras::application_weights(converted, metadata);
    CHECK(metadata.at("arch") == "mobilenet_v2");
    CHECK(metadata.at("padding") == "tf_same");
    CHECK(metadata.at("preprocess") == "tf");
    CHECK(metadata.at("width") == "0.10");
    models::PretrainedOptions options;
    options.image_size = 32;
    models::PretrainedModel net = models::build_pretrained("mobilenet_v2", weights, metadata, options);
    CHECK(net.spec.classes == 5);
  }
  SUBCASE("other models have no nib architecture to go onto") {
    auto converted = convert_keras_model(fixture("k2_cnn.h5"));
    std::map<std::string, std::string> metadata;
    std::string message = error_of([&] { formats::keras::application_weights(converted, metadata); });
    CHECK(message.find("k2_cnn.h5: not a Keras VGG16 or MobileNetV2") != std::string::npos);
  }
}

TEST_CASE("bad Keras files give one-line errors naming the file and the problem" * doctest::skip(kNoHdf5)) {
  TempDir dir;
  auto message = [](const std::string& path) { return error_of([&] { convert_keras_model(path); }); };
  auto expect = [&](const std::string& path, const std::string& problem) {
    std::string m = message(path);
    INFO(m);
    CHECK(m.find(path) == 0);
    CHECK(m.find(problem) != std::string::npos);
    CHECK(m.find('\n') == std::string::npos);
  };
  expect(fixture("bad_shape.h5"), "layer 'conv2d' (Conv2D): kernel has shape [3, 3, 1, 5] in the file, "
                                  "but the layer's config makes it [3, 3, 1, 4]");
  expect(fixture("bad_missing.h5"), "layer 'dense_1' (Dense) has no weight 'bias'");
  expect(fixture("bad_layer.h5"),
         "layer 'up_sampling2d' is a UpSampling2D, which nib cannot convert (supported: InputLayer, Conv2D");
  expect(fixture("bad_no_config.keras"), "no config.json in this zip archive");
  // A truncated HDF5 file: libhdf5's own reason, without its error stack on stderr.
  std::string whole = read_file(fixture("k2_cnn.h5"));
  write_file_atomic(dir.file("truncated.h5"), whole.substr(0, whole.size() / 2));
  expect(dir.file("truncated.h5"), "not a readable HDF5 file (truncated file");
  write_file_atomic(dir.file("text.h5"), "not a model");
  expect(dir.file("text.h5"), "not a Keras model");
  expect(dir.file("absent.h5"), "cannot open");
}

TEST_CASE("the two real Keras files match the PyTorch reference layer by layer" *
          doctest::skip(kNoHdf5 || !has_shared_data("keras/mnist_cnn_keras2.h5") ||
                        !has_shared_data("keras/mnist_mlp_keras3.h5"))) {
  for (std::string name : {"mnist_cnn_keras2", "mnist_mlp_keras3"}) {
    CAPTURE(name);
    auto converted = convert_keras_model(shared_data_dir() + "/keras/" + name + ".h5");
    SafeTensorsFile io = load_safetensors(fixture("real_" + name + "_layers.safetensors"));
    std::map<std::string, Tensor> expected(io.tensors.begin(), io.tensors.end());
    std::map<std::string, Tensor> got = layer_outputs(*converted.model, to_nib(expected.at("input")));
    for (const std::string& layer : converted.model->layer_names()) {
      // The fixture keeps every k-th value of each image (k so that at most 2048 remain).
      Tensor all = keras_layout(*converted.model, layer, got.at(layer)).flatten(1);
      int64_t n = all.size(1), stride = (n + 2047) / 2048, kept = (n + stride - 1) / stride;
      std::vector<float> values = all.to_vector(), sampled;
      for (int64_t i = 0; i < all.size(0); ++i)
        for (int64_t j = 0; j < kept; ++j) sampled.push_back(values[i * n + j * stride]);
      check_matches(Tensor::from_vector(sampled, {all.size(0), kept}), expected.at(layer),
                    name + ": " + layer);
    }
  }
}

TEST_CASE("model configs nib cannot convert are refused with the reason") {
  using formats::keras::parse_model_config;
  auto error = [](const std::string& config) {
    return error_of([&] { parse_model_config(json::parse(config), "m.h5"); });
  };
  const std::string input = R"({"class_name": "InputLayer", "name": "in", "config": {"name": "in",
                                "batch_input_shape": [null, 4, 4, 1]}, "inbound_nodes": []})";
  auto functional = [&](const std::string& layers, const std::string& inputs, const std::string& outputs) {
    return R"({"class_name": "Functional", "config": {"name": "f", "layers": [)" + input + "," + layers +
           R"(], "input_layers": )" + inputs + R"(, "output_layers": )" + outputs + "}}";
  };
  const std::string dense = R"({"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2},
                                "inbound_nodes": [[["in", 0, 0, {}]]]})";
  // Keras 3 writes a single input or output without the outer list.
  CHECK(parse_model_config(json::parse(functional(dense, R"(["in", 0, 0])", R"(["d", 0, 0])")), "m.h5")
            .graph.layers.size() == 1);
  CHECK(error(functional(dense, R"([["in", 0, 0], ["in", 0, 0]])", R"([["d", 0, 0]])")) ==
        "m.h5: the model has 2 inputs; nib converts models with one");
  const std::string shared = R"({"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2},
                                 "inbound_nodes": [[["in", 0, 0, {}]], [["in", 0, 0, {}]]]})";
  CHECK(error(functional(shared, R"([["in", 0, 0]])", R"([["d", 0, 0]])")) ==
        "m.h5: layer 'd' is called 2 times in the model; nib converts layers used once");
  const std::string nested = R"({"class_name": "Functional", "name": "base", "config": {"name": "base"},
                                 "inbound_nodes": [[["in", 0, 0, {}]]]})";
  CHECK(error(functional(nested, R"([["in", 0, 0]])", R"([["base", 0, 0]])"))
            .find("m.h5: layer 'base' is a whole Functional model nested in this one") == 0);
  CHECK(error(R"({"class_name": "MyModel", "config": {}})").find("m.h5: the model is a MyModel") == 0);
  CHECK(error(R"({"class_name": "Sequential", "config": {"layers": 3}})").find("m.h5: malformed model config") == 0);
}

TEST_CASE("layer settings nib cannot compute are refused, naming the layer") {
  auto build = [](const std::string& cls, const std::string& config) {
    models::keras::GraphDescription g;
    g.input_name = "in";
    g.input_shape = {6, 6, 3};
    g.layers.push_back({"x", cls, {"in"}, json::parse(config)});
    g.output = "x";
    return error_of([&] { models::keras::KerasGraph(g, 3, 6, models::Preprocess::None); });
  };
  CHECK(build("Conv2D", R"({"filters": 2, "kernel_size": 3, "padding": "causal"})") ==
        "layer 'x' (Conv2D): padding 'causal' is not supported (valid or same)");
  CHECK(build("Conv2D", R"({"filters": 2, "kernel_size": 3, "strides": [2, 1]})") ==
        "layer 'x' (Conv2D): strides 2x1: only equal sizes in both directions are supported");
  CHECK(build("Conv2D", R"({"filters": 2, "kernel_size": 3, "data_format": "channels_first"})") ==
        "layer 'x' (Conv2D): data_format channels_first is not supported (only channels_last)");
  CHECK(build("Activation", R"({"activation": "swish"})").find("layer 'x': activation 'swish' is not supported") == 0);
  CHECK(build("ReLU", R"({"max_value": 4.0})").find("max_value=4") != std::string::npos);
  CHECK(build("Dense", R"({"units": 2})").find("Dense on a 4-D input") != std::string::npos);
  CHECK(build("Softmax", R"({"axis": 1})") == "layer 'x' (Softmax): only axis -1 is supported");
  CHECK(build("Conv2D", R"({"kernel_size": 3})") == "layer 'x' (Conv2D): filters must be a positive whole number, got none");
}

TEST_CASE("'same' pooling on odd sizes: TensorFlow pads after, and averages leave the padding out") {
  // The fixtures' 'same' poolings pad only for max pooling; here a 3x3 map,
  // pool 2, stride 2: one row and one column of padding after (none before).
  auto pool = [](const std::string& cls) {
    models::keras::GraphDescription g;
    g.input_name = "in";
    g.input_shape = {3, 3, 1};
    g.layers.push_back({"pool", cls, {"in"},
                        json::parse(R"({"pool_size": [2, 2], "strides": [2, 2], "padding": "same"})")});
    g.output = "pool";
    models::keras::KerasGraph model(g, 1, 3, models::Preprocess::None);
    NoGrad no_grad;
    return model(Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}));
  };
  Tensor avg = pool("AveragePooling2D");
  CHECK(avg.shape() == Shape{1, 1, 2, 2});
  // (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9 (counting the padding would give 3, 2.25, 3.75, 2.25).
  CHECK(avg.to_vector() == std::vector<float>{3, 4.5f, 7.5f, 9});
  CHECK(pool("MaxPooling2D").to_vector() == std::vector<float>{5, 6, 8, 9});
}
