#include "models/imagenet_weights.h"

#include <cstdio>
#include <filesystem>

#include "formats/safetensors.h"
#include "hub/fetch.h"
#include "hub/locations.h"
#include "models/pretrained.h"
#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace nib::models {

namespace {

const hub::KnownItem& weights_item(const std::string& arch) {
  const hub::KnownItem* item = hub::find_item(arch);
  NIB_CHECK(item && item->kind == hub::ItemKind::Weights, "--weights imagenet: nib knows ImageNet weights for ",
            "vgg16, mobilenet_v2 and resnet18, not for '", arch, "'");
  return *item;
}

// A .pth that nib did not just download must still be the published file.
void check_digest(const std::string& path, const hub::KnownFile& file) {
  std::string actual = sha256_of_file(path);
  NIB_CHECK(actual == file.sha256, path, ": its SHA-256 is ", actual, ", not the published ", file.sha256,
            " of ", file.url, "; replace it with the published file, or remove it and nib downloads it");
}

}  // namespace

void convert_checkpoint(const std::string& arch, const hub::KnownFile& source, const std::string& checkpoint,
                        const std::string& out) {
  std::map<std::string, std::string> metadata;  // a .pth has none; kept for other formats (test fixtures)
  NamedTensors tensors = read_weights(checkpoint, &metadata);
  metadata.insert({{"arch", arch}, {"format", "pt"}, {"padding", "torch"}, {"preprocess", "torch"}});
  metadata["source"] = source.name();
  metadata["source_sha256"] = source.sha256;
  try {
    build_pretrained(arch, tensors, metadata, {});
  } catch (const Error& e) {
    fail(checkpoint, ": ", e.what());
  }
  make_dirs(parent_dir(out));
  save_safetensors(out, tensors, metadata);
  std::fprintf(stderr, "nib: converted %s to %s (%zu tensors)\n", checkpoint.c_str(), out.c_str(), tensors.size());
}

std::string resolve_weights(const std::string& arch, const std::string& weights) {
  return weights == "imagenet" ? imagenet_weights(arch) : weights;
}

std::string converted_path(const hub::KnownItem& item) {
  std::string pth = item.files.front().path;
  return pth.substr(0, pth.find_last_of('.')) + ".safetensors";
}

std::string locate_converted(const hub::KnownItem& item) {
  for (const std::string& root : hub::search_roots())
    if (std::string path = join_path(root, converted_path(item)); file_exists(path)) return path;
  return "";
}

std::string imagenet_weights(const std::string& arch) {
  const hub::KnownItem& item = weights_item(arch);
  if (std::string found = locate_converted(item); !found.empty()) return found;

  const hub::KnownFile& source = item.files.front();
  std::string downloaded = join_path(hub::nib_home(), source.path);
  std::string pth = hub::locate_file(source);
  if (pth.empty())
    pth = hub::download_file(source);  // checked while it downloads
  else
    check_digest(pth, source);  // put there by hand, or left by an interrupted conversion

  std::string out = join_path(hub::nib_home(), converted_path(item));
  convert_checkpoint(arch, source, pth, out);
  if (pth == downloaded) std::filesystem::remove(pth);
  return out;
}

}  // namespace nib::models
