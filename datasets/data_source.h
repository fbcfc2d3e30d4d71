// Finding data: where the shared data folder is, and what kind of data a
// command-line argument names, so `nib train --data X` accepts "mnist", a
// folder of IDX files, a Kaggle CSV or a folder of class folders.
#pragma once

#include <string>

#include "datasets/dataset.h"
#include "datasets/image_folder.h"

namespace nib::data {

// $NIB_DATA when set; otherwise the first existing `shared/data` in the
// current directory or up to four levels above it, then the same next to the
// running executable. Empty when there is none.
std::string data_dir();

enum class DataKind { Mnist, IdxDir, Csv, ImageFolder };

struct DataSource {
  DataKind kind;
  std::string path;
  std::string describe() const;  // "MNIST IDX files in /work/shared/data/mnist"
};

// Recognises:
//   "mnist"                          -> data_dir()/mnist (Mnist)
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
