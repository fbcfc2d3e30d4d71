#!/usr/bin/env bash
# nib vs PyTorch: images/s of one training step of the basic CNN on the CPU,
# same network, same batch, same number of threads, same timing (median of
# steps after a warm-up). Writes bench/results/train_step_cpu.{json,md}.
#
#   bench/train_step_vs_pytorch.sh [NIB_BINARY] [--batch N] [--threads N] [--steps N] [--rounds N]
#
# The two run alternately for --rounds rounds (default 3) and the median of
# each side is kept: on a shared machine the load changes from minute to
# minute, and alternating gives both sides the same conditions on average.
set -euo pipefail

nib=build/nib
if [[ $# -gt 0 && $1 != --* ]]; then nib=$1; shift; fi
batch=128 threads=$(nproc) steps=20 rounds=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "train_step_vs_pytorch.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x $nib ]] || { echo "train_step_vs_pytorch.sh: no nib binary at $nib (build it, or pass its path)" >&2; exit 2; }
/usr/bin/python3 -c "import torch" 2>/dev/null ||
  { echo "train_step_vs_pytorch.sh: /usr/bin/python3 cannot import torch (apt install python3-torch)" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for ((i = 1; i <= rounds; ++i)); do
  echo "== round $i of $rounds"
  "$nib" bench train-step --batch "$batch" --threads "$threads" --steps "$steps" --json "$tmp/nib_$i.json"
  /usr/bin/python3 "$here/pytorch_reference.py" --batch "$batch" --threads "$threads" --steps "$steps" \
    --json "$tmp/torch_$i.json"
done

# Combine with the plain python3 (no torch needed here).
python3 - "$tmp" "$rounds" "$out" <<'EOF'
import json, statistics, sys, platform
tmp, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
nib = [json.load(open(f"{tmp}/nib_{i}.json")) for i in range(1, rounds + 1)]
torch = [json.load(open(f"{tmp}/torch_{i}.json")) for i in range(1, rounds + 1)]
nib_rate = statistics.median(r["images_per_s"] for r in nib)
torch_rate = statistics.median(r["images_per_s"] for r in torch)
ratio = nib_rate / torch_rate
first = nib[0]
result = {
    "benchmark": "one training step (forward, cross-entropy, backward, Adam) of the basic CNN, random MNIST-shaped data",
    "cpu": first["cpu"], "date": first["date"], "batch": first["batch"], "threads": first["threads"],
    "rounds": rounds, "steps_per_round": first["steps"],
    "nib_images_per_s": nib_rate, "pytorch_images_per_s": torch_rate, "nib_over_pytorch": ratio,
    "pytorch_version": torch[0]["framework"],
    "nib_rounds": nib, "pytorch_rounds": torch,
}
import os
loads = [r["load_average_before"] for r in nib + torch]
highest = max(float(l.split()[0]) for l in loads)
cpus = os.cpu_count()
result["measured_on_loaded_machine"] = highest > cpus
warning = ""
if highest > cpus:
    warning = (f"**Measured on a loaded machine: 1-minute load average up to {highest:.2f} on {cpus} logical CPUs "
               "(" + "; ".join(loads) + "). Other jobs shared the cores, so these are not idle-machine numbers; "
               "rerun on an idle machine before quoting absolute rates.**\n\n")
json.dump(result, open(f"{out}/train_step_cpu.json", "w"), indent=2)
md = f"""# Training step on the CPU: nib vs PyTorch

{warning}{first['cpu']}, {first['threads']} threads, {first['date']}.

One training step of the basic CNN (conv 5x5 32 - max pool - conv 5x5 64 - max pool - dense 128 - dropout -
dense 10) on a batch of {first['batch']} random 28x28 images: forward, cross-entropy, backward, Adam step.
Each side: median of {first['steps']} steps after 3 warm-up steps, per round; {rounds} rounds alternating nib
and PyTorch; the table shows the median round. Measured by `bench/train_step_vs_pytorch.sh`.

| framework | images/s | ms per step |
|---|---:|---:|
| nib ({first['kernels']} kernels) | {nib_rate:.0f} | {1e3 * first['batch'] / nib_rate:.1f} |
| {torch[0]['framework']} | {torch_rate:.0f} | {1e3 * first['batch'] / torch_rate:.1f} |

nib / PyTorch = **{ratio:.2f}x**

Load average (1 min) before each run — above {first['threads']} the machine was shared and both sides waited
for cores: nib """ + ", ".join(r["load_average_before"].split()[0] for r in nib) + "; PyTorch " + ", ".join(
    r["load_average_before"].split()[0] for r in torch) + f""".

nib's step by phase (round medians, ms): """ + ", ".join(
    f"round {i + 1}: forward {r['forward_ms']:.1f}, loss {r['loss_ms']:.2f}, backward {r['backward_ms']:.1f}, "
    f"adam {r['optimizer_ms']:.2f}" for i, r in enumerate(nib)) + "\n"
open(f"{out}/train_step_cpu.md", "w").write(md)
print(f"\nnib {nib_rate:.0f} images/s, PyTorch {torch_rate:.0f} images/s: nib / PyTorch = {ratio:.2f}x")
print(f"wrote {out}/train_step_cpu.json and {out}/train_step_cpu.md")
EOF
