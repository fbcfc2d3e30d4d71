// End to end: images/s of one training step of the basic CNN on the GPU —
// forward, cross-entropy, backward, Adam, exactly as `nib bench train-step`
// measures it (bench/train_step.cpp, one wait for the GPU per step) — with
// nib's own CUDA kernels, with NVIDIA's (cuDNN, cuBLAS), and in
// PyTorch eager on the same GPU (bench/pytorch_reference.py --device cuda,
// run through popen), side by side.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <regex>
#include <string>

#include "bench/cuda/groups.h"
#include "bench/train_step.h"
#include "kernels/registry.h"
#include "util/error.h"

namespace nib::bench::gpu {

namespace {

struct PytorchRun {
  double images_per_s = NAN;
  std::string description;  // "pytorch 2.5.1" or "not available (why)"
};

// Single quotes for the shell: 'it'\''s'.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// Runs the PyTorch reference and reads "..., 12345 images/s" from what it
// prints. Anything that goes wrong (no python, no torch, torch without
// CUDA) becomes "not available (the script's last line)".
PytorchRun run_pytorch(const Options& options, int64_t batch) {
  if (!std::filesystem::exists(options.pytorch_script))
    return {NAN, "not available (no " + options.pytorch_script +
                     "; run from the repository root or pass --pytorch-script PATH)"};
  const std::string command = shell_quote(options.python) + " " + shell_quote(options.pytorch_script) +
                              " --device cuda --batch " + std::to_string(batch) + " --steps " +
                              std::to_string(options.train_steps) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {NAN, "not available (popen failed: " + command + ")"};
  std::string output;
  std::array<char, 512> buf;
  while (std::fgets(buf.data(), buf.size(), pipe)) output += buf.data();
  const int status = pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127) return {NAN, "not available (" + options.python + " not found)"};
  if (code != 0) return {NAN, "not available (" + last_line(output) + ")"};

  std::smatch m;
  const std::regex rate(R"(([0-9.]+) images/s)"), version(R"((pytorch \S+) train step)");
  if (!std::regex_search(output, m, rate))
    return {NAN, "not available (no images/s in its output: " + last_line(output) + ")"};
  PytorchRun run;
  run.images_per_s = std::stod(m[1].str());
  run.description = std::regex_search(output, m, version) ? m[1].str() : "pytorch";
  run.description += " (eager, FP32 with TF32 off, same GPU)";
  return run;
}

double nib_images_per_s(const char* kernels_spec, int64_t batch, int64_t steps) {
  kernels::configure(kernels_spec);
  const TrainStepTiming t = measure_train_step(batch, steps, kCUDA, /*per_phase=*/false);
  std::printf("   nib %-12s batch %4lld: %8.3f ms per step, %8.0f images/s  (kernels: %s)\n", kernels_spec,
              static_cast<long long>(batch), t.step_ms, t.images_per_s, kernels::describe().c_str());
  std::fflush(stdout);
  return t.images_per_s;
}

}  // namespace

void bench_train(const Options& options, Results& results) {
  std::printf("\nEnd to end: basic-CNN training step, median of %lld steps after 3 warm-up\n",
              static_cast<long long>(options.train_steps));
  for (int64_t batch : {128, 512}) {
    if (!options.runs(batch == 128, true)) continue;  // --quick: 128; --headline: both
    TrainRow row;
    row.batch = batch;
    row.cuda_images_per_s = nib_images_per_s("cuda", batch, options.train_steps);
    row.libraries_images_per_s = nib_images_per_s("cudnn,cublas", batch, options.train_steps);
    kernels::configure("cuda");  // nib's default, for whatever runs next
    cuda::empty_cache();           // give PyTorch the memory nib's allocator holds
    const PytorchRun torch = run_pytorch(options, batch);
    row.pytorch_images_per_s = torch.images_per_s;
    row.pytorch = torch.description;
    std::printf("   PyTorch      batch %4lld: %s%s\n", static_cast<long long>(batch),
                std::isfinite(torch.images_per_s)
                    ? (std::to_string(static_cast<long long>(torch.images_per_s)) + " images/s, ").c_str()
                    : "",
                torch.description.c_str());
    std::fflush(stdout);
    results.add(std::move(row));
  }
  cuda::empty_cache();
}

}  // namespace nib::bench::gpu
