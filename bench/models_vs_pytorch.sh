#!/usr/bin/env bash
# nib vs PyTorch on the CPU, every model nib ships: images/s of inference and
# of a training step (`nib bench models`, bench/pytorch_models.py), same
# models, inputs, batches, threads and timing. Writes
# bench/results/models_cpu.{json,md} (or --out DIR), with nib / PyTorch per case.
#
#   bench/models_vs_pytorch.sh [NIB_BINARY] [--threads N] [--rounds N] [--budget S] [--models LIST] [--modes LIST] [--out DIR]
#
# The two run alternately, model by model, for --rounds rounds (default 3),
# and each side's median round is kept: on a shared machine the load changes
# from minute to minute, and alternating gives both sides the same
# conditions on average. Each result records the load average before it, and
# the Markdown says in bold when the machine was loaded.
set -euo pipefail

nib=build/nib
if [[ $# -gt 0 && $1 != --* ]]; then nib=$1; shift; fi
threads=$(nproc) rounds=3 budget=3 models="mlp,basic-cnn,mobilenet_v2,resnet18,vgg16" modes="forward,train"
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "models_vs_pytorch.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x $nib ]] || { echo "models_vs_pytorch.sh: no nib binary at $nib (build it, or pass its path)" >&2; exit 2; }
/usr/bin/python3 -c "import torch, torchvision" 2>/dev/null ||
  { echo "models_vs_pytorch.sh: /usr/bin/python3 cannot import torch (apt install python3-torch python3-torchvision)" >&2; exit 2; }

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for ((i = 1; i <= rounds; ++i)); do
  for model in ${models//,/ }; do
    echo "== round $i of $rounds: $model"
    "$nib" bench models --models "$model" --modes "$modes" --threads "$threads" --budget "$budget" \
      --json "$tmp/nib_${i}_$model.json" | tail -n +3
    /usr/bin/python3 "$here/pytorch_models.py" --models "$model" --modes "$modes" --threads "$threads" \
      --budget "$budget" --json "$tmp/torch_${i}_$model.json" | tail -n +2
  done
done

# Combine with the plain python3 (no torch needed here).
python3 - "$tmp" "$rounds" "$out" "$models" "$threads" <<'PY'
import glob, json, os, statistics, sys
tmp, rounds, out, models, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(","), int(sys.argv[5])

def rows(side):
    by_case = {}
    meta = None
    for path in sorted(glob.glob(f"{tmp}/{side}_*.json")):
        doc = json.load(open(path))
        meta = meta or doc
        for r in doc["results"]:
            by_case.setdefault((r["model"], r["mode"]), []).append(r)
    return by_case, meta

nib, nib_meta = rows("nib")
torch, torch_meta = rows("torch")
cases, loads = [], []
for model in models:
    for mode in ("forward", "train"):
        if (model, mode) not in nib or (model, mode) not in torch:
            continue
        n, t = nib[(model, mode)], torch[(model, mode)]
        loads += [r["load_average_before"] for r in n + t]
        nib_rate = statistics.median(r["images_per_s"] for r in n)
        torch_rate = statistics.median(r["images_per_s"] for r in t)
        cases.append({"model": model, "mode": mode, "input": n[0]["input"], "batch": n[0]["batch"],
                      "nib_images_per_s": nib_rate, "pytorch_images_per_s": torch_rate,
                      "nib_over_pytorch": nib_rate / torch_rate,
                      "nib_rounds": [r["images_per_s"] for r in n], "pytorch_rounds": [r["images_per_s"] for r in t],
                      "load_averages_before": [r["load_average_before"] for r in n + t]})
cpus = os.cpu_count()
highest = max(float(l.split()[0]) for l in loads)
result = {"benchmark": "images/s per model: inference (eval, no autograd) and a training step (forward, "
                       "cross-entropy, backward, Adam) on random data",
          "cpu": nib_meta["cpu"], "logical_cpus": cpus, "threads": threads, "date": nib_meta["date"],
          "rounds": rounds, "nib_kernels": nib_meta["kernels"], "pytorch": torch_meta["framework"],
          "timing": nib_meta["timing"], "measured_on_loaded_machine": highest > cpus,
          "highest_load_average_1min": highest, "cases": cases}
json.dump(result, open(f"{out}/models_cpu.json", "w"), indent=2)
warning = ""
if highest > cpus:
    warning = (f"**Measured on a loaded machine: 1-minute load average up to {highest:.2f} on {cpus} logical CPUs. "
               "Other jobs shared the cores, so these are not idle-machine numbers; both sides ran alternately in "
               "the same minutes, so the ratios are fairer than the rates, but rerun on an idle machine before "
               "quoting either.**\n\n")
md = f"""# Every model nib ships: nib vs PyTorch on the CPU

{warning}{nib_meta['cpu']}, {threads} threads, {nib_meta['date']}; nib kernels: {nib_meta['kernels']};
{torch_meta['framework']} (Debian's python3-torch). Measured by `bench/models_vs_pytorch.sh`: {rounds} rounds,
model by model alternating nib (`nib bench models`) and PyTorch (`bench/pytorch_models.py`); per case
the median round of each side. Random data; inference in eval mode without autograd; a training step is
forward, cross-entropy, backward and an Adam step.

| model | input | batch | mode | nib images/s | PyTorch images/s | nib / PyTorch | nib rounds | PyTorch rounds |
|---|---|---:|---|---:|---:|---:|---|---|
"""
for c in cases:
    rounds = lambda v: ", ".join(f"{x:.1f}" for x in v)
    md += (f"| {c['model']} | {c['input']} | {c['batch']} | {c['mode']} | {c['nib_images_per_s']:.1f} | "
           f"{c['pytorch_images_per_s']:.1f} | **{c['nib_over_pytorch']:.2f}x** | {rounds(c['nib_rounds'])} | "
           f"{rounds(c['pytorch_rounds'])} |\n")
md += "\nLoad average (1 min) before each case, nib's rounds then PyTorch's:\n\n"
for c in cases:
    md += f"- {c['model']} {c['mode']}: " + ", ".join(l.split()[0] for l in c["load_averages_before"]) + "\n"
open(f"{out}/models_cpu.md", "w").write(md)
for c in cases:
    print(f"{c['model']:14} {c['mode']:8} nib {c['nib_images_per_s']:9.1f}  pytorch {c['pytorch_images_per_s']:9.1f}"
          f"  nib/pytorch {c['nib_over_pytorch']:.2f}x")
print(f"wrote {out}/models_cpu.json and {out}/models_cpu.md")
PY
