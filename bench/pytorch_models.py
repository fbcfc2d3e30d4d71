#!/usr/bin/python3
"""The cases of `nib bench models`, in PyTorch, for comparison.

Same models (torchvision's mobilenet_v2, resnet18 and vgg16, which nib builds
layer for layer; the MLP and basic CNN of nib's registry), same inputs and
batch sizes (bench/models.cpp), same steps: inference in eval mode under
torch.no_grad(), and a training step (forward, cross-entropy, backward,
Adam). Same timing: one warm-up call, then calls until --budget seconds have
passed (at least 3), median per call.

    /usr/bin/python3 bench/pytorch_models.py --threads 2 [--models mlp,vgg16] [--json out.json]

PyTorch is only ever used here for comparison; nib does not need it.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

try:
    import torch
    from torch import nn
    import torchvision
except ImportError as e:
    print(f"pytorch_models.py: cannot import torch/torchvision ({e}); apt install python3-torch python3-torchvision",
          file=sys.stderr)
    sys.exit(3)

# model, channels, size, classes, batch: as model_cases() in bench/models.cpp.
CASES = [("mlp", 1, 28, 10, 128), ("basic-cnn", 1, 28, 10, 128), ("mobilenet_v2", 3, 224, 1000, 16),
         ("resnet18", 3, 224, 1000, 16), ("vgg16", 3, 224, 1000, 8)]


def build(name):
    if name == "mlp":  # models/mlp.h defaults: hidden 512-512, dropout 0.2
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))
    if name == "basic-cnn":  # models/basic_cnn.h defaults
        return nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    return getattr(torchvision.models, name)()


def time_median(call, budget, min_repeats=3, max_repeats=50):
    call()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < max_repeats:
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
        times.append(t1 - t0)
        if len(times) >= min_repeats and t1 - start >= budget:
            break
    return statistics.median(times), len(times)


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="")
    parser.add_argument("--modes", default="forward,train")
    parser.add_argument("--budget", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    wanted = [m for m in args.models.split(",") if m]
    modes = [m for m in args.modes.split(",") if m]
    load_before = load()
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads, load average {load_before}")
    results = []
    for name, channels, size, classes, batch in CASES:
        if wanted and name not in wanted:
            continue
        for mode in modes:
            torch.manual_seed(1)
            model = build(name)
            x = torch.randn(batch, channels, size, size)
            labels = torch.randint(0, classes, (batch,))
            before = load()
            if mode == "forward":
                model.eval()

                def call():
                    with torch.no_grad():
                        model(x)
            else:
                model.train()
                adam = torch.optim.Adam(model.parameters(), lr=1e-3)
                loss_fn = nn.CrossEntropyLoss()

                def call():
                    loss = loss_fn(model(x), labels)
                    adam.zero_grad(set_to_none=True)
                    loss.backward()
                    adam.step()
            seconds, repeats = time_median(call, args.budget)
            r = {"model": name, "input": f"{channels}x{size}x{size}", "batch": batch, "mode": mode,
                 "images_per_s": batch / seconds, "ms_per_batch": seconds * 1e3, "repeats": repeats,
                 "load_average_before": before}
            print(f"{name:14} {r['input']:12} {batch:6} {mode:8} {r['images_per_s']:12.1f} {r['ms_per_batch']:12.2f}",
                  flush=True)
            results.append(r)
    if args.json:
        doc = {"framework": f"pytorch {torch.__version__}", "cpu": cpu_model(), "threads": torch.get_num_threads(),
               "date": time.strftime("%Y-%m-%d"), "load_average_before": load_before, "load_average_after": load(),
               "results": results}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)


if __name__ == "__main__":
    main()
