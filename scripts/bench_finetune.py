#!/usr/bin/env python3
"""Runs the nib finetune benchmarks and writes bench/results/finetune.{json,md}.

Every number in the results comes from a run made by this script: the
accuracy from the run's summary.json, seconds per epoch from its metrics.csv,
the feature-caching time from nib's own output. Usage (from the repository
root, after scripts/build.sh):

    scripts/bench_finetune.py [NAME...]     # all benchmarks, or the named ones
    scripts/bench_finetune.py --report      # rewrite finetune.md from finetune.json
    scripts/bench_finetune.py --from-run NAME   # record a benchmark already run by hand with
                                                # exactly its command, nib's output saved as
                                                # <out>/finetune.log (wall time: the log's sum)
"""
import csv
import datetime
import json
import os
import re
import subprocess
import sys
import time

DATA = os.environ.get("NIB_DATA", "../shared/data")
WEIGHTS = f"{DATA}/pretrained/mobilenet_v2_tflite_dequant.safetensors"

BENCHMARKS = {
    "digits-frozen-cached": [
        "build/nib", "finetune", "--model", "mobilenet_v2", "--weights", WEIGHTS,
        "--data", f"{DATA}/hand_written_digits", "--channels", "1", "--image-size", "96", "--val-split", "0.2",
        "--head", "gap,dense128,dropout0.5", "--freeze", "base", "--cache-features", "--epochs", "12",
        "--schedule", "cosine", "--quiet", "--out", "runs/bench-finetune-digits"],
    "digits-flatten-cached": [
        "build/nib", "finetune", "--model", "mobilenet_v2", "--weights", WEIGHTS,
        "--data", f"{DATA}/hand_written_digits", "--channels", "1", "--image-size", "64", "--val-split", "0.2",
        "--head", "flatten,dense128,dropout0.5", "--freeze", "base", "--cache-features", "--epochs", "12",
        "--schedule", "cosine", "--quiet", "--out", "runs/bench-finetune-digits-flatten"],
    "mnist-frozen-cached": [
        "build/nib", "finetune", "--model", "mobilenet_v2", "--weights", WEIGHTS,
        "--data", "mnist", "--image-size", "32",
        "--head", "gap,dense128,dropout0.5", "--freeze", "base", "--cache-features", "--epochs", "10",
        "--schedule", "cosine", "--quiet", "--out", "runs/bench-finetune-mnist-frozen"],
    "mnist-64-limit2000": [
        "build/nib", "finetune", "--model", "mobilenet_v2", "--weights", WEIGHTS,
        "--data", "mnist", "--image-size", "64", "--limit", "2000",
        "--head", "gap,dense128,dropout0.5", "--freeze", "base", "--cache-features", "--epochs", "12",
        "--schedule", "cosine", "--quiet", "--out", "runs/bench-finetune-mnist-64-limit2000"],
    "mnist-32-full": [
        "build/nib", "finetune", "--weights", WEIGHTS, "--data", "mnist", "--image-size", "32",
        "--freeze", "none", "--lr", "0.0001", "--epochs", "3", "--schedule", "cosine",
        "--out", "runs/ft-mnist32-full"],
    "digits-unfreeze": [
        "build/nib", "finetune", "--model", "mobilenet_v2", "--weights", WEIGHTS,
        "--data", f"{DATA}/hand_written_digits", "--channels", "1", "--image-size", "96", "--val-split", "0.2",
        "--head", "gap,dense128,dropout0.5", "--freeze", "base", "--cache-features", "--epochs", "10",
        "--unfreeze-after", "5", "--unfreeze", "last:6", "--base-lr", "0.0001", "--schedule", "cosine",
        "--quiet", "--out", "runs/bench-finetune-digits-unfreeze"],
    "mnist-unfreeze": [
        "build/nib", "finetune", "--model", "mobilenet_v2", "--weights", WEIGHTS,
        "--data", "mnist", "--image-size", "32",
        "--head", "gap,dense128,dropout0.5", "--freeze", "base", "--cache-features", "--epochs", "4",
        "--unfreeze-after", "2", "--unfreeze", "last:6", "--base-lr", "0.0005",
        "--out", "runs/bench-finetune-mnist-unfreeze"],
}


# What the numbers alone do not say, per run.
NOTES = {
    "mnist-32-full": "every layer trains (--freeze none); s/epoch includes the validation pass "
                     "(6000 images). A first run while other jobs shared the cores took 12-16 min/epoch "
                     "with the same losses to the last digit.",
    "digits-unfreeze": "stage 1: the head on cached features (epochs 1-5); stage 2: features.13-18 "
                       "join at --base-lr 0.0001 and every batch goes through the base (epochs 6-10).",
}


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def run(name, command):
    print("$", " ".join(command), flush=True)
    started = time.time()
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.time() - started
    sys.stdout.write(proc.stdout[-3000:])
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{name}: nib exited with {proc.returncode}")
    out_dir = command[command.index("--out") + 1]
    with open(f"{out_dir}/finetune.log", "w") as f:  # nib's whole output, next to the run's reports
        f.write(proc.stdout)
    return collect(name, command, proc.stdout, wall)


def from_run(name, command):
    """A benchmark run earlier (e.g. in the background) with this exact command."""
    out_dir = command[command.index("--out") + 1]
    with open(f"{out_dir}/config.json") as f:
        recorded = json.load(f)["command"]
    if recorded.split()[1:] != command[1:]:
        raise SystemExit(f"{name}: {out_dir} was made by `{recorded}`, not by this benchmark's command")
    with open(f"{out_dir}/finetune.log") as f:
        log = f.read()
    result = collect(name, command, log, None)
    result["wall_seconds"] = sum(e["seconds"] for e in result["epochs"]) + (result["feature_cache_seconds"] or 0)
    return result


def stage_seconds(command, epochs):
    """[head stage, unfrozen stage] mean seconds per epoch for a two-stage run, else None."""
    if "--unfreeze-after" not in command:
        return None
    split = int(command[command.index("--unfreeze-after") + 1])
    mean = lambda es: sum(float(e["seconds"]) for e in es) / max(1, len(es))
    return [mean(epochs[:split]), mean(epochs[split:])]


def collect(name, command, log, wall):
    out_dir = command[command.index("--out") + 1]
    with open(f"{out_dir}/summary.json") as f:
        summary = json.load(f)
    with open(f"{out_dir}/metrics.csv") as f:
        epochs = list(csv.DictReader(f))
    cached = re.search(r"cached\s+features .*? of (\d+) images in ([\d.]+)s", log)
    return {
        "name": name,
        # Paths relative to the repository root, as a reader would type them: an absolute
        # $NIB_DATA is this machine's, not the reader's.
        "command": " ".join(os.path.relpath(c) if os.path.isabs(c) and os.path.exists(c) else c
                            for c in command),
        "evaluated_on": summary["evaluated_on"],
        "images": summary["images"],
        "accuracy": summary["accuracy"],
        "epochs": [{"epoch": int(e["epoch"]), "seconds": float(e["seconds"]),
                    "val_accuracy": float(e["val_accuracy"])} for e in epochs],
        "seconds_per_epoch": sum(float(e["seconds"]) for e in epochs) / len(epochs),
        "stage_seconds_per_epoch": stage_seconds(command, epochs),
        "feature_cache_seconds": float(cached.group(2)) if cached else None,
        "wall_seconds": wall,
    }


def main():
    os.makedirs("bench/results", exist_ok=True)
    path = "bench/results/finetune.json"
    previous = json.load(open(path)) if os.path.exists(path) else {"runs": []}
    if sys.argv[1:] == ["--report"]:
        result = previous
    else:
        runs = {r["name"]: r for r in previous["runs"]}
        if sys.argv[1:2] == ["--from-run"]:
            for name in sys.argv[2:]:
                runs[name] = from_run(name, BENCHMARKS[name])
                runs[name]["date"] = datetime.date.today().isoformat()
        else:
            for name in sys.argv[1:] or list(BENCHMARKS):
                runs[name] = run(name, BENCHMARKS[name])
                runs[name]["date"] = datetime.date.today().isoformat()
        result = {"cpu": cpu_model(), "cores": os.cpu_count(), "runs": list(runs.values()),
                  "note": "shared machine: other jobs ran at the same time, so times are upper bounds"}
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
    write_markdown(result)


def write_markdown(result):
    lines = ["# nib finetune: MobileNetV2 transfer learning on the CPU", "",
             f"CPU: {result['cpu']} ({result['cores']} cores, shared with other jobs, so times are upper bounds).",
             "Weights: `mobilenet_v2_tflite_dequant.safetensors` (ImageNet, tf_same padding, tf preprocessing).",
             "Written by `scripts/bench_finetune.py` from the runs' summary.json and metrics.csv.", "",
             "s/epoch: the head's epochs (on cached features) or whole epochs; feature caching: one pass of",
             "the frozen base over train + validation images.", "",
             "| run | date | evaluated on | accuracy | s/epoch | feature caching | wall |",
             "|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        cache = f"{r['feature_cache_seconds']:.0f} s" if r["feature_cache_seconds"] else "—"
        stages = r.get("stage_seconds_per_epoch")
        per_epoch = (f"{stages[0]:.1f} head, then {stages[1]:.1f} unfrozen" if stages
                     else f"{r['seconds_per_epoch']:.1f}")
        lines.append(f"| {r['name']} | {r['date']} | {r['evaluated_on']} ({r['images']} images) | "
                     f"{100 * r['accuracy']:.2f}% | {per_epoch} | {cache} | "
                     f"{r['wall_seconds']:.0f} s |")
    lines += ["", "Per-epoch seconds and validation accuracy:", ""]
    for r in result["runs"]:
        per_epoch = ", ".join(f"{e['seconds']:.1f}s/{100 * e['val_accuracy']:.2f}%" for e in r["epochs"])
        lines += [f"- **{r['name']}**: {per_epoch}", f"  `{r['command']}`"]
        if r["name"] in NOTES:
            lines.append(f"  Note: {NOTES[r['name']]}")
    with open("bench/results/finetune.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote bench/results/finetune.{json,md}")


if __name__ == "__main__":
    main()
