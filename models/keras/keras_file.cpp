#include "models/keras/keras_file.h"

#include <fstream>

#include "formats/zip_archive.h"

namespace nib::formats::keras {

namespace {

std::string first_bytes(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  NIB_CHECK(in, path, ": cannot open file");
  std::string bytes(n, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(n));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

json::Value parse_config(const std::string& text, const std::string& source) {
  try {
    return json::parse(text, source);
  } catch (const Error& e) {
    fail(source, ": the model config is not valid JSON (", e.what(), ")");
  }
}

KerasFile open_h5(const std::string& path) {
  KerasFile k;
  k.path = path;
  auto file = std::make_shared<hdf5::File>(hdf5::File::open(path));
  NIB_CHECK(file->has_attribute("/", "model_config"), path,
            ": no model_config attribute, so no architecture: this .h5 holds weights only "
            "(model.save_weights); nib needs a whole model saved with model.save()");
  k.model = parse_model_config(parse_config(file->string_attribute("/", "model_config"), path), path);
  for (const char* where : {"/", "model_weights"})
    if (k.keras_version.empty() && file->exists(where) && file->has_attribute(where, "keras_version"))
      k.keras_version = file->string_attribute(where, "keras_version");
  k.format = k.keras_version.rfind("3", 0) == 0 ? "Keras 3 HDF5" : "Keras 2 HDF5";
  k.weights = h5_weight_store(file);
  return k;
}

KerasFile open_archive(const std::string& path) {
  KerasFile k;
  k.path = path;
  k.format = "Keras 3 archive (.keras)";
  ZipArchive zip(path);
  const ZipArchive::Entry* config = zip.find("config.json");
  NIB_CHECK(config, path, ": no config.json in this zip archive, so it is not a Keras .keras model");
  k.model = parse_model_config(parse_config(zip.read(*config), path + ": config.json"), path);
  if (const ZipArchive::Entry* metadata = zip.find("metadata.json")) {
    json::Value m = parse_config(zip.read(*metadata), path + ": metadata.json");
    if (const json::Value* v = m.find("keras_version"); v && v->is_string()) k.keras_version = v->as_string();
  }
  const ZipArchive::Entry* weights = zip.find("model.weights.h5");
  NIB_CHECK(weights, path, ": no model.weights.h5 in this .keras archive",
            zip.find("model.weights.npz") ? " (weights saved as .npz are not supported)" : "");
  auto file = std::make_shared<hdf5::File>(hdf5::File::open_image(zip.read(*weights), path + ": model.weights.h5"));
  k.weights = keras_zip_weight_store(file, k.model.graph.layers);
  return k;
}

}  // namespace

KerasFile open_keras_file(const std::string& path) {
  std::string head = first_bytes(path, 8);
  if (head.rfind("PK", 0) == 0) return open_archive(path);
  if (head == "\x89HDF\r\n\x1a\n") return open_h5(path);
  fail(path, ": not a Keras model (neither an HDF5 .h5 file nor a .keras zip archive)");
}

}  // namespace nib::formats::keras
