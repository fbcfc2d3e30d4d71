#!/usr/bin/python3
"""The training step of `nib bench train-step`, in PyTorch, for comparison.

Same network as nib's default basic CNN (models/basic_cnn.h), same batch of
random MNIST-shaped data, same step: forward, cross-entropy, backward, Adam.
Same timing: 3 warm-up steps, then the median of --steps steps.

    /usr/bin/python3 bench/pytorch_reference.py --batch 128 --threads 2 [--json out.json]
    python3 bench/pytorch_reference.py --device cuda --batch 512       # as `nib bench gpu` runs it

On CUDA every step ends with torch.cuda.synchronize(), so a step's time is
the GPU's, and TF32 is off (cuDNN allows it by default) so that both sides
compute in full FP32 as nib does by default; --tf32 turns it back on.
When torch cannot be imported or has no CUDA device, one line says why on
stderr and the exit code is 3 (`nib bench gpu` prints that line).
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
    from torch import nn
except ImportError as e:
    print(f"pytorch_reference.py: cannot import torch ({e})", file=sys.stderr)
    sys.exit(3)


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
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--tf32", action="store_true", help="CUDA: allow TF32 in matmul and cuDNN (default: off)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    cuda = args.device == "cuda"
    if cuda:
        if not torch.cuda.is_available():
            print(f"pytorch_reference.py: torch {torch.__version__} sees no CUDA device "
                  f"(torch.cuda.is_available() is False; built for CUDA {torch.version.cuda})", file=sys.stderr)
            sys.exit(3)
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32

    def sync():
        if cuda:
            torch.cuda.synchronize()

    torch.manual_seed(1)
    model = basic_cnn().train().to(args.device)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 1, 28, 28).to(args.device)
    labels = torch.randint(0, 10, (args.batch,)).to(args.device)
    loss_fn = nn.CrossEntropyLoss()

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    warmup = 3
    times = []
    for i in range(warmup + args.steps):
        sync()
        t0 = time.perf_counter()
        loss = loss_fn(model(x), labels)
        adam.zero_grad(set_to_none=True)
        loss.backward()
        adam.step()
        sync()
        t1 = time.perf_counter()
        if i >= warmup:
            times.append(t1 - t0)

    step = statistics.median(times)
    result = {
        "framework": f"pytorch {torch.__version__}",
        "batch": args.batch,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "tf32": args.tf32 if cuda else False,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "warmup": warmup,
        "step_ms": step * 1e3,
        "images_per_s": args.batch / step,
        "load_average_before": load_before,
        "load_average_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    where = (f"{torch.cuda.get_device_name()}, TF32 {'on' if args.tf32 else 'off'}" if cuda
             else f"{torch.get_num_threads()} threads")
    print(f"pytorch {torch.__version__} train step: basic CNN, batch {args.batch}, {where}")
    print(f"  median of {args.steps} steps after {warmup} warm-up: {step * 1e3:.2f} ms per step, "
          f"{args.batch / step:.0f} images/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
