#!/usr/bin/env python3
"""The headline numbers of one `nib bench gpu` results file, for the summary
that scripts/gpu_check.sh writes.

    scripts/gpu_headline.py RESULTS.json          Markdown bullet lines
    scripts/gpu_headline.py --json RESULTS.json   the same numbers as JSON

Every number printed is read from RESULTS.json (what the GPU run wrote) or is
a ratio of two such numbers: nothing here is estimated. A case the run did not
measure is reported as "not measured".
"""
import json
import statistics
import sys


def ratio_text(r):
    return "not measured" if r is None else f"{r:.2f}x"


def number(v, fmt, scale=1.0):
    """v formatted, or "-" when the results file has no number there."""
    return "-" if v is None else format(v * scale, fmt)


def fwd_bwd_ratio(rows, model, layer):
    """Library time / nib time, summed over the three passes (TF32 off)."""
    lib = [r["ms"] for r in rows if r["model"] == model and r["layer"] == layer and r["impl"] == "cudnn"]
    own = [r["ms"] for r in rows if r["model"] == model and r["layer"] == layer and r["impl"] == "cuda"]
    if len(lib) != 3 or len(own) != 3:
        return None
    return sum(lib) / sum(own)


def headline(results):
    rows = results.get("ops", [])
    device = results.get("device", {})
    out = {"device": device.get("name"), "date": results.get("date"), "command": results.get("command")}
    lines = []

    # GEMM 4096: every rung and TF32, each against the library with the same TF32 setting.
    gemm = [r for r in rows if r["group"] == "gemm" and r["layer"] == "n=4096"]
    out["gemm_4096"] = {
        r["impl"]: {"gflops": r.get("gflops"), "vs_library": r.get("vs_library"), "rel_error": r.get("rel_error")}
        for r in gemm
    }
    if gemm:
        parts = []
        for r in gemm:
            rate = f"{r['impl']} {number(r.get('gflops'), '.1f', 1e-3)} TFLOP/s"
            parts.append(rate if r["library"] else f"{rate} = {ratio_text(r.get('vs_library'))}")
        lines.append("GEMM n=4096 (vs cuBLAS with the same TF32 setting): " + "; ".join(parts))
    else:
        lines.append("GEMM n=4096: not measured")

    # Dense convolutions: forward + both backward passes, nib vs cuDNN.
    conv = [r for r in rows if r["group"] == "conv" and not r["tf32"]]
    dense = {}
    for model, layer in [("basic-cnn", "conv1"), ("basic-cnn", "conv2"), ("vgg16", "conv3_1"), ("vgg16", "conv3_2")]:
        dense[f"{model} {layer}"] = fwd_bwd_ratio(conv, model, layer)
    out["conv_fwd_bwd_vs_cudnn"] = dense
    lines.append("conv fwd+bwd vs cuDNN: " + ", ".join(f"{k} {ratio_text(v)}" for k, v in dense.items()))

    # MobileNetV2: every depthwise layer measured, a few pointwise ones.
    for kind in ("depthwise", "pointwise"):
        layers = sorted({r["layer"] for r in conv if r["model"] == "mobilenetv2" and r["kind"] == kind})
        ratios = {layer: fwd_bwd_ratio(conv, "mobilenetv2", layer) for layer in layers}
        ratios = {k: v for k, v in ratios.items() if v is not None}
        out[f"mobilenetv2_{kind}_vs_cudnn"] = ratios
        if ratios:
            worst = min(ratios, key=ratios.get)
            lines.append(
                f"MobileNetV2 {kind} fwd+bwd vs cuDNN, {len(ratios)} layers: median "
                f"{statistics.median(ratios.values()):.2f}x, worst {ratios[worst]:.2f}x ({worst}), "
                f"best {max(ratios.values()):.2f}x"
            )
        else:
            lines.append(f"MobileNetV2 {kind}: not measured")

    # Memory-bound: nib's rows that move at least 4x the L2, against the copy.
    copy = next((r for r in rows if r["impl"] == "cudaMemcpy"), None)
    l2 = device.get("l2_bytes") or 0
    big = [r for r in rows if r["group"] == "memory" and not r["library"] and (r.get("bytes") or 0) >= 4 * l2 > 0]
    out["memory"] = {
        "copy_gbps": copy["gbps"] if copy else None,
        "peak_gbps": device.get("peak_gbps"),
        "rows": {
            f"{r['model']} {r['layer']} {r['pass']}".strip(): {
                "gbps": r["gbps"],
                "of_copy": r["gbps"] / copy["gbps"] if copy and copy.get("gbps") else None,
            }
            for r in big
        },
    }
    if copy:
        parts = [
            f"{name} {number(v['gbps'], '.0f')} GB/s ({number(v['of_copy'], '.0f', 100)}%)"
            for name, v in out["memory"]["rows"].items()
        ]
        lines.append(
            f"memory-bound, as a share of the device copy's {number(copy.get('gbps'), '.0f')} GB/s "
            f"(theoretical peak {number(device.get('peak_gbps'), '.0f')} GB/s): "
            + ("; ".join(parts) if parts else "no nib row moved 4x the L2")
        )
    else:
        lines.append("memory-bound: not measured")

    # Training step images/s.
    train = results.get("train_step", [])
    out["train_step"] = train
    for t in train:
        def num(key):
            v = t.get(key)
            return "-" if v is None else f"{v:.0f}"

        ratio = t.get("cuda_over_pytorch")
        lines.append(
            f"basic-CNN training step, batch {t['batch']}: nib cuda {num('nib_cuda_images_per_s')}, "
            f"nib cudnn+cublas {num('nib_libraries_images_per_s')}, PyTorch {num('pytorch_images_per_s')} images/s"
            + (f" (cuda/PyTorch {ratio:.2f}x)" if ratio is not None else f" ({t.get('pytorch', '')})")
        )
    if not train:
        lines.append("training step: not measured")

    out["targets"] = results.get("targets", [])
    for t in out["targets"]:
        lines.append(f"target [{t['verdict']}] {t['goal']}: {t['measured']}")
    return out, lines


def main(argv):
    as_json = "--json" in argv
    paths = [a for a in argv[1:] if a != "--json"]
    if len(paths) != 1:
        sys.exit(__doc__)
    with open(paths[0]) as f:
        results = json.load(f)
    out, lines = headline(results)
    if as_json:
        print(json.dumps(out, indent=2))
    else:
        for line in lines:
            print(f"- {line}")


if __name__ == "__main__":
    main(sys.argv)
