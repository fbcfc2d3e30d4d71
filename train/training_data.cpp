#include "train/training_data.h"

#include "datasets/data_source.h"
#include "datasets/image_folder.h"
#include "datasets/resize_images.h"
#include "datasets/split.h"

namespace nib::train {

namespace {

data::ImageFolderOptions folder_options(int64_t image_size, int64_t channels) {
  data::ImageFolderOptions o;
  o.image_size = static_cast<int>(image_size > 0 ? image_size : 64);
  o.channels = static_cast<int>(channels > 0 ? channels : 1);
  NIB_CHECK(o.channels == 1 || o.channels == 3, "--channels must be 1 or 3, got ", channels);
  return o;
}

data::Dataset first_rows(const data::Dataset& d, int64_t n) {
  if (n <= 0 || n >= d.size()) return d;
  return data::subset(d, data::all_indices(n));
}

}  // namespace

TrainingData load_training_data(const DataOptions& options) {
  NIB_CHECK(options.val_split >= 0.0 && options.val_split < 1.0, "--val-split must be in [0, 1), got ",
            options.val_split);
  data::DataSource source = data::detect_data(options.spec);
  data::ImageFolderOptions folder = folder_options(options.image_size, options.channels);
  folder.skip_bad_images = options.skip_bad_images;
  data::LoadedData loaded = data::load_data(source, folder);
  NIB_CHECK(loaded.train.labelled(), source.path, ": training data needs labels");
  NIB_CHECK(loaded.train.num_classes() >= 2, source.path, ": found ", loaded.train.num_classes(),
            " class(es); a classifier needs at least two");

  TrainingData out;
  data::Dataset pool = first_rows(loaded.train, options.limit);
  if (options.val_split > 0.0) {
    data::Split split = data::stratified_split(pool.labels, options.val_split, options.seed);
    out.train = data::subset(pool, split.train);
    out.validation = data::subset(pool, split.val);
  } else {
    out.train = pool;
  }
  out.input_style = data::measure_input_style(pool, /*digits=*/source.kind != data::DataKind::ImageFolder);
  out.test = loaded.test;
  if (options.limit > 0 && out.test.size() > 0) out.test = first_rows(out.test, std::max<int64_t>(options.limit / 4, 100));
  if (source.kind != data::DataKind::ImageFolder && options.image_size > 0) {
    // IDX and CSV digits are 28x28; pretrained bases want larger inputs (MobileNetV2 at least 32x32).
    out.train = data::resize_images(out.train, options.image_size);
    out.validation = data::resize_images(out.validation, options.image_size);
    out.test = data::resize_images(out.test, options.image_size);
  }
  out.description = str(source.describe(), ": ", out.train.size(), " train, ", out.validation.size(), " validation, ",
                        out.has_test() ? std::to_string(out.test.size()) + " test" : std::string("no separate test set"));
  return out;
}

data::Dataset load_evaluation_data(const std::string& spec, int64_t image_size, int64_t channels,
                                   const data::InputStyle& prepare) {
  data::DataSource source = data::detect_data(spec);
  data::ImageFolderOptions folder = folder_options(image_size, channels);
  if (prepare.prepare != data::InputStyle::Prepare::None)
    folder.prepare = [prepare, channels = folder.channels, size = folder.image_size](const Image& image,
                                                                                      const std::string& path) {
      return data::prepare_image(image, prepare, channels, size, path);
    };
  data::LoadedData loaded = data::load_data(source, folder);
  data::Dataset set = loaded.has_test() ? loaded.test : loaded.train;
  if (source.kind != data::DataKind::ImageFolder) set = data::resize_images(set, image_size);  // as in training
  NIB_CHECK(set.images.size(1) == channels && set.images.size(2) == image_size, spec, ": images are ",
            set.images.size(1), "x", set.images.size(2), "x", set.images.size(3), " but the model expects ", channels,
            "x", image_size, "x", image_size);
  return set;
}

}  // namespace nib::train
