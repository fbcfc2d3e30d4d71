#!/usr/bin/python3
"""The training step of `nib bench train-step`, in PyTorch, for comparison.

Same network as nib's default basic CNN (models/basic_cnn.h), same batch of
random MNIST-shaped data, same step: forward, cross-entropy, backward, Adam.
Same timing: 3 warm-up steps, then the median of --steps steps.

    /usr/bin/python3 bench/pytorch_reference.py --batch 128 --threads 2 [--json out.json]
"""
import argparse
import json
import os
import statistics
import time

import torch
from torch import nn


def basic_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--json", default="", help="also write the result to this file")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    torch.manual_seed(1)
    model = basic_cnn().train()
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 1, 28, 28)
    labels = torch.randint(0, 10, (args.batch,))
    loss_fn = nn.CrossEntropyLoss()

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    warmup = 3
    times = []
    for i in range(warmup + args.steps):
        t0 = time.perf_counter()
        loss = loss_fn(model(x), labels)
        adam.zero_grad(set_to_none=True)
        loss.backward()
        adam.step()
        t1 = time.perf_counter()
        if i >= warmup:
            times.append(t1 - t0)

    step = statistics.median(times)
    result = {
        "framework": f"pytorch {torch.__version__}",
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "warmup": warmup,
        "step_ms": step * 1e3,
        "images_per_s": args.batch / step,
        "load_average_before": load_before,
        "load_average_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    print(f"pytorch {torch.__version__} train step: basic CNN, batch {args.batch}, "
          f"{torch.get_num_threads()} threads")
    print(f"  median of {args.steps} steps after {warmup} warm-up: {step * 1e3:.2f} ms per step, "
          f"{args.batch / step:.0f} images/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
