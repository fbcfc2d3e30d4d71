// Indexes, queries and their failures, through the library functions that
// nib index / retrieve / eval-retrieval call, on small PNGs the tests draw.
#include <doctest/doctest.h>

#include <filesystem>

#include "retrieval/indexing.h"
#include "retrieval/metrics.h"
#include "retrieval/result_grid.h"
#include "tensor/random.h"
#include "tests/shared_data.h"
#include "tests/temp_dir.h"
#include "util/image.h"

using namespace nib;
using namespace nib::retrieval;
using nib::testing::TempDir;

namespace {

// A 12x10 image of one colour plus noise: images of one class are close.
void draw(const std::string& path, float r, float g, float b, uint64_t seed) {
  Generator gen(seed);
  Image image(12, 10, 3);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      image.at(y, x, 0) = r + 0.05f * gen.uniform();
      image.at(y, x, 1) = g + 0.05f * gen.uniform();
      image.at(y, x, 2) = b + 0.05f * gen.uniform();
    }
  save_image(image, path);
}

// red/0..5.png and blue/0..5.PNG (upper case: extensions match in any case).
void draw_two_classes(const TempDir& dir) {
  for (int i = 0; i < 6; ++i) {
    draw(dir.file("red/" + std::to_string(i) + ".png"), 0.8f, 0.1f, 0.1f, i);
    draw(dir.file("blue/" + std::to_string(i) + ".PNG"), 0.1f, 0.1f, 0.8f, 10 + i);
  }
}

ExtractorOptions pixel_options(int64_t size = 6) {
  ExtractorOptions o;
  o.model = "pixels";
  o.image_size = size;
  return o;
}

ImageIndex index_of(const std::string& folder, const ExtractorOptions& options, const ImageIndex* previous = nullptr,
                    IndexUpdate* update = nullptr) {
  FeatureExtractor extractor(options);
  return build_index(open_image_source(folder), extractor, previous, update, /*progress=*/false);
}

}  // namespace

TEST_CASE("retrieval apps: a folder of class folders becomes a labelled index that survives saving") {
  TempDir dir;
  draw_two_classes(dir);
  testing::write_text(dir.file("red/notes.txt"), "not an image");
  ImageIndex index = index_of(dir.path() + "/", pixel_options());
  REQUIRE(index.size() == 12);
  CHECK(index.features.size(1) == 6 * 6 * 3);
  CHECK(index.class_names == std::vector<std::string>{"blue", "red"});
  CHECK(index.paths[0] == "blue/0.PNG");
  CHECK(index.labels == std::vector<int32_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1});

  index.save(dir.file("db.nibindex"));
  ImageIndex loaded = ImageIndex::load(dir.file("db.nibindex"));
  CHECK(loaded.paths == index.paths);
  CHECK(loaded.labels == index.labels);
  CHECK(loaded.file_times == index.file_times);
  CHECK(loaded.extractor == index.extractor);
  CHECK(loaded.features.to_vector() == index.features.to_vector());
  CHECK(loaded.full_path(7) == (std::filesystem::absolute(dir.path()) / "red/1.png").lexically_normal().string());

  // Two well-separated colours: every neighbour is of the query's class.
  RetrievalScores s = evaluate_retrieval(loaded.features, loaded.labels, loaded.features, loaded.labels,
                                         Metric::Euclidean, /*leave_one_out=*/true);
  CHECK(s.p_at_1 == 1.0);
  CHECK(s.p_at_5 == 1.0);
  CHECK(s.p_at_10 == doctest::Approx(0.5));  // 5 of a class besides the query
  CHECK(s.map == 1.0);
}

TEST_CASE("retrieval apps: a query embedded like the index finds itself at distance 0, or not with exclude") {
  TempDir dir;
  draw_two_classes(dir);
  ExtractorOptions options = pixel_options(5);
  options.l2_normalize = true;
  options.center_crop = 0.8;
  ImageIndex index = index_of(dir.path(), options);
  ImageIndex loaded = (index.save(dir.file("db.nibindex")), ImageIndex::load(dir.file("db.nibindex")));

  // The description holds every setting: the rebuilt extractor describes itself identically.
  CHECK(FeatureExtractor(extractor_options(loaded.extractor)).describe() == loaded.extractor);

  ImageSource query = open_image_source(dir.file("red/2.png"));
  Tensor q = embed_like_index(loaded, query, false);
  auto found = search(q, loaded.features, 3, Metric::Euclidean);
  CHECK(loaded.paths[found[0][0].index] == "red/2.png");
  CHECK(found[0][0].distance == 0.0f);
  CHECK(loaded.class_names[loaded.labels[found[0][1].index]] == "red");
  auto without = search(q, loaded.features, 3, Metric::Euclidean, {found[0][0].index});
  CHECK(without[0][0].index == found[0][1].index);

  // The grid: the query and its 3 neighbours, captioned and framed by class.
  ImageSource queries = open_image_source(dir.path() + "/blue");  // unlabelled: no class folders below it
  auto results = search(embed_like_index(loaded, queries, false), loaded.features, 3, Metric::Cosine);
  viz::ImageGrid grid = result_grid(loaded, queries, results, 8, 2);
  CHECK(grid.columns == 4);
  REQUIRE(grid.items.size() == 8);
  CHECK(grid.items[0].captions[0].text == "query");
  CHECK(grid.items[1].captions[0].text.rfind("#1  ", 0) == 0);
  CHECK(grid.items[1].captions[1].text == "blue");
  CHECK(grid.items[0].image.size(2) == 8);  // the 12x10 original, shrunk to the cell
  CHECK_FALSE(grid.items[1].frame.has_value());
}

TEST_CASE("retrieval apps: --update extracts only new and changed files and drops removed ones") {
  TempDir dir;
  draw_two_classes(dir);
  ExtractorOptions options = pixel_options();
  ImageIndex first = index_of(dir.path(), options);

  draw(dir.file("red/new.png"), 0.9f, 0.2f, 0.1f, 99);       // new
  std::filesystem::remove(dir.file("blue/3.PNG"));             // removed
  draw(dir.file("red/0.png"), 0.1f, 0.9f, 0.1f, 98);          // changed: now green
  std::filesystem::last_write_time(dir.file("red/0.png"),
                                   std::filesystem::last_write_time(dir.file("red/0.png")) + std::chrono::seconds(5));
  IndexUpdate update;
  ImageIndex updated = index_of(dir.path(), options, &first, &update);
  CHECK(update.reused == 10);
  CHECK(update.extracted == 2);
  CHECK(update.removed == 1);
  ImageIndex fresh = index_of(dir.path(), options);
  CHECK(updated.paths == fresh.paths);
  CHECK(updated.labels == fresh.labels);
  CHECK(updated.features.to_vector() == fresh.features.to_vector());

  // Nothing changed: nothing extracted.
  ImageIndex again = index_of(dir.path(), options, &updated, &update);
  CHECK(update.extracted == 0);
  CHECK(again.features.to_vector() == fresh.features.to_vector());

  // Another extractor's rows cannot be mixed in.
  ExtractorOptions other = options;
  other.l2_normalize = true;
  CHECK_THROWS_WITH_AS(index_of(dir.path(), other, &updated), doctest::Contains("refusing to mix"), Error);
}

TEST_CASE("retrieval apps: bad indexes, queries and folders are one-line errors") {
  TempDir dir;
  draw_two_classes(dir);
  ImageIndex index = index_of(dir.path(), pixel_options());
  std::string path = dir.file("db.nibindex");
  index.save(path);

  // Truncated, and not an index at all.
  std::vector<unsigned char> bytes = testing::read_bytes(path);
  bytes.resize(bytes.size() / 2);
  testing::write_bytes(dir.file("truncated.nibindex"), bytes);
  CHECK_THROWS_WITH_AS(ImageIndex::load(dir.file("truncated.nibindex")), doctest::Contains("truncated.nibindex"),
                       Error);
  testing::write_text(dir.file("text.nibindex"), "hello");
  CHECK_THROWS_AS(ImageIndex::load(dir.file("text.nibindex")), Error);

  // An index whose extractor now gives another dimension (here: its stored
  // image size edited, as if the model had changed since).
  ImageIndex changed = index;
  changed.extractor["image_size"] = "4";
  CHECK_THROWS_WITH_AS(embed_like_index(changed, open_image_source(dir.file("red/1.png")), false),
                       doctest::Contains("rebuild"), Error);

  // A query that is not an image.
  testing::write_text(dir.file("broken/bad.png"), "not a png");
  CHECK_THROWS_WITH_AS(embed_like_index(index, open_image_source(dir.file("broken/bad.png")), false),
                       doctest::Contains("bad.png"), Error);

  // An empty folder, a missing one, and k beyond the database.
  std::filesystem::create_directories(dir.path() + "/empty");
  CHECK_THROWS_WITH_AS(open_image_source(dir.path() + "/empty"), doctest::Contains("no images"), Error);
  CHECK_THROWS_WITH_AS(open_image_source(dir.path() + "/missing"), doctest::Contains("no such"), Error);
  CHECK_THROWS_WITH_AS(search(index.features, index.features, 13, Metric::Euclidean), doctest::Contains("only 12"),
                       Error);
  CHECK_THROWS_WITH_AS(open_image_source("mnist:validation"), doctest::Contains("train or test"), Error);
}

TEST_CASE("retrieval apps: MNIST splits as sources, with their labels and a first-N limit" *
          doctest::skip(!nib::testing::has_shared_data("mnist"))) {
  std::string root = nib::testing::shared_data_dir();
  ImageSource train = open_image_source(root + "/mnist:train:300");
  ImageSource test = open_image_source(root + "/mnist:test:40");
  REQUIRE(train.size() == 300);
  CHECK(test.size() == 40);
  CHECK(train.class_names.size() == 10);
  CHECK(test.labels.size() == 40);
  CHECK(test.full_path(7) == root + "/mnist:test:40#7");

  // Pixels keep MNIST's own 28x28 gray, and the index remembers it for the queries.
  FeatureExtractor extractor(fit_to_source(pixel_options(0), train));
  ImageIndex index = build_index(train, extractor, nullptr, nullptr, false);
  CHECK(index.features.size(1) == 28 * 28);
  Tensor queries = embed_like_index(index, test, false);
  CHECK(queries.size(1) == 28 * 28);
  // The first test image is the same pixels as the source's (nothing resized).
  CHECK(queries.slice_rows(0, 1).to_vector() == test.images.slice_rows(0, 1).to_vector());
  RetrievalScores s = evaluate_retrieval(queries, labels_in_index(index, test), index.features, index.labels,
                                         Metric::Euclidean, false);
  CHECK(s.p_at_1 > 0.5);  // nearest-neighbour digits on 300 examples: far above chance (0.1)
  std::vector<Image> originals = load_originals(index.root, {"0", "299"}, 96);
  CHECK(originals[1].width == 28);
  CHECK(originals[1].channels == 1);
}
