// Finding data: what kind of data a command-line argument names, so
// `nib train --data X` accepts "mnist" (downloaded when it is not on this
// machine), a folder of IDX files, a Kaggle CSV or a folder of class folders.
#pragma once

#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/image_folder.h"
#include "hub/locations.h"

namespace nib::data {

// Where the data folder is ($NIB_DATA, else shared/data): see hub/locations.h.
using hub::data_dir;

// Mnist: a data set nib knows by name (mnist, fashion_mnist), in IDX files.
enum class DataKind { Mnist, IdxDir, Csv, ImageFolder };

struct DataSource {
  DataKind kind;
  std::string path;
  std::string title = "";                      // a known data set's name: "Fashion-MNIST"
  std::vector<std::string> class_names = {};  // a known data set's class names, when they have names
  std::string describe() const;               // "MNIST (../shared/data/mnist)"
};

// Recognises:
//   "mnist", "fashion_mnist"         -> data_dir()/<name> when it holds IDX
//                                       files, else the cache's copy, downloaded
//                                       when missing (hub/fetch.h) (Mnist)
//   a directory holding *-idx*-ubyte[.gz] files -> IdxDir
//   a file ending in .csv            -> Csv
//   a directory of class folders with images  -> ImageFolder
// A relative path that does not exist is also looked up under data_dir()
// ("hand_written_digits"). Anything else is an error listing these forms.
DataSource detect_data(const std::string& spec);

// What a source holds: a training set and, when the source has one (MNIST's
// t10k files), a separate test set (test.size() == 0 otherwise).
struct LoadedData {
  Dataset train, test;
  bool has_test() const { return test.size() > 0; }
};
// image_options apply to image folders only.
LoadedData load_data(const DataSource& source, const ImageFolderOptions& image_options = {});

}  // namespace nib::data
