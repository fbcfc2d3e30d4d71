// A folder of images with one sub-folder per class, as torchvision's
// ImageFolder and Keras' image_dataset_from_directory read it:
//   digits/0_digits/00001.jpg, digits/1_digits/..., digits/2_digits/...
// Class names are the sub-folder names, sorted; label k is the k-th name.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "util/image.h"

namespace nib::data {

struct ImageFolderOptions {
  int image_size = 0;            // resize every image to image_size x image_size; 0 keeps sizes (they must agree)
  int channels = 3;              // 1 (gray) or 3 (RGB)
  bool skip_bad_images = false;  // false: an unreadable image is an error naming it; true: warn and leave it out
  bool progress = true;          // one line on stderr before and after loading big folders
  // When set (nib predict preparing digits people drew), each image is decoded
  // as stored, alpha included, and this turns it into the set's channels and
  // image_size (which must be given); it gets the image and its path.
  std::function<Image(const Image&, const std::string&)> prepare = nullptr;
};

// True for the extensions nib loads: .png .jpg .jpeg .bmp (any case).
bool is_image_file(const std::string& path);

// Loads the class folders under `dir`. Hidden entries and files that are not
// images are ignored; a class folder without images is an error.
Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& options = {});

// Loads the given files as one unlabelled set, in order (for prediction).
Dataset load_image_files(const std::vector<std::string>& paths, const ImageFolderOptions& options = {});

}  // namespace nib::data
