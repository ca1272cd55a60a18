"""The embedded default labeler: EfficientNet-Lite0 (ImageNet-1k) run with ONNX Runtime.

Offline and free: the model (``models/efficientnet_lite0.onnx``, made by
``SetupScripts/export_onnx_model.py``) and the class-to-label map (``imagenet_labels.json``,
made by ``SetupScripts/make_imagenet_labels.py``) ship with the package.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .base import Label, LabelerError, LabelResult

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = HERE / "models" / "efficientnet_lite0.onnx"
DEFAULT_LABELS = HERE / "imagenet_labels.json"
MODEL_NAME = "efficientnet-lite0-imagenet"

INPUT_SIZE = 224
# EfficientNet's evaluation crop: the central 224/256 of the short side, resized bicubic.
CROP_FRACTION = INPUT_SIZE / 256
# Ask the JPEG decoder for >= 256 px on the short side: it then decodes at 1/2, 1/4 or 1/8
# scale straight from the DCT, which cuts a 12 MP decode from ~150 ms to ~20-35 ms here.
DRAFT_SIZE = 256


@dataclass(frozen=True)
class LabelTable:
    """How class probabilities become label confidences, as flat index arrays.

    A label named by classes ("Cat": tabby, tiger cat, ...) gets the sum of their
    probabilities. A parent ("Animal") gets the max over the labels under it: summing would
    let an unsure model's small scattered bets on 400 animal classes add up to a confident
    "Animal" on a photo of gravel.
    """

    names: tuple[str, ...]
    parents: tuple[tuple[str, ...], ...]
    class_index: np.ndarray  # (class, label) pairs whose probabilities are summed
    label_index: np.ndarray
    child_index: np.ndarray  # (label, ancestor) pairs: ancestor takes the max
    ancestor_index: np.ndarray

    @classmethod
    def load(cls, path: Path) -> LabelTable:
        table = json.loads(path.read_text(encoding="utf-8"))
        ids: dict[str, int] = {}
        parents: list[tuple[str, ...]] = []

        def label_id(name: str, its_parents: list[str]) -> int:
            if name not in ids:
                ids[name] = len(parents)
                parents.append(tuple(its_parents))
            return ids[name]

        summed: set[tuple[int, int]] = set()
        maxed: set[tuple[int, int]] = set()
        for entry in table["classes"]:
            name = label_id(entry["name"], entry["parents"])
            summed.add((entry["index"], name))
            if specific := entry.get("specific"):
                summed.add((entry["index"], label_id(specific, [entry["name"], *entry["parents"]])))
            maxed.update((name, label_id(p, table["parents"][p])) for p in entry["parents"])
        class_index, label_index = _columns(summed)
        child_index, ancestor_index = _columns(maxed)
        return cls(
            tuple(ids), tuple(parents), class_index, label_index, child_index, ancestor_index
        )

    def confidences(self, probabilities: np.ndarray) -> np.ndarray:
        """Percent per label, capped at 100 (float sums can overshoot by a hair)."""
        weights = probabilities[self.class_index]
        scores = np.bincount(self.label_index, weights=weights, minlength=len(self.names))
        np.maximum.at(scores, self.ancestor_index, scores[self.child_index])
        return np.minimum(scores * 100.0, 100.0)


def _columns(pairs: set[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    left, right = zip(*sorted(pairs), strict=True)
    return np.array(left, dtype=np.intp), np.array(right, dtype=np.intp)


@dataclass(frozen=True)
class _Loaded:
    session: object  # onnxruntime.InferenceSession
    input_name: str
    table: LabelTable
    model_version: str


class OnnxLabeler:
    """Labels photos locally; safe to call from several threads at once."""

    name = "onnx"
    needs_bytes = True

    def __init__(
        self,
        model_path: str | Path = DEFAULT_MODEL,
        *,
        min_confidence: float = 30.0,
        max_labels: int = 10,
        labels_path: str | Path = DEFAULT_LABELS,
        threads: int | None = None,
    ) -> None:
        # 30 %, not Rekognition's usual 50+: an ImageNet model spreads its belief over
        # look-alike classes, so a right answer often lands at 30-60 %; below ~30 % its labels
        # on photos it has no class for (gravel, grass, text) are mostly noise.
        self.model_path = Path(model_path)
        self.labels_path = Path(labels_path)
        self.min_confidence = min_confidence
        self.max_labels = max_labels
        self.threads = threads or min(2, os.cpu_count() or 1)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def detect_labels(self, image: bytes | None, *, key: str | None = None) -> LabelResult:
        if image is None:
            raise LabelerError("the offline labeler needs the image bytes", retryable=False)
        pixels = preprocess(image)
        loaded = self._load()
        try:
            (logits,) = loaded.session.run(None, {loaded.input_name: pixels})
        except Exception as exc:  # onnxruntime raises its own types; callers expect ours
            raise LabelerError(f"the labeling model failed: {exc}") from exc
        confidences = loaded.table.confidences(softmax(logits[0]))
        return LabelResult(self._pick(confidences, loaded.table), loaded.model_version)

    def _pick(self, confidences: np.ndarray, table: LabelTable) -> list[Label]:
        rounded = np.round(confidences, 3)
        keep = np.flatnonzero(rounded >= self.min_confidence)
        # On ties the more general label (fewer parents) first, so a cut at max_labels
        # never keeps a label but drops the parent it names.
        order = sorted(keep, key=lambda i: (-rounded[i], len(table.parents[i]), table.names[i]))
        return [
            Label(table.names[i], float(rounded[i]), table.parents[i])
            for i in order[: self.max_labels]
        ]

    def _load(self) -> _Loaded:
        # Lazy, once: building the session takes ~0.2 s and the app may never label.
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._build()
        return self._loaded

    def _build(self) -> _Loaded:
        if not self.model_path.is_file():
            raise LabelerError(
                f"ONNX model not found at {self.model_path}; it ships with the app "
                "(rebuild it with SetupScripts/export_onnx_model.py)",
                retryable=False,
            )
        import onnxruntime as ort  # deferred: only this labeler needs it

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        # Idle worker threads would otherwise busy-wait and steal CPU from the web app.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
            table = LabelTable.load(self.labels_path)
        except Exception as exc:  # a corrupt file: no retry will fix it
            raise LabelerError(f"cannot load the labeling model: {exc}", retryable=False) from exc
        with self.model_path.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()[:12]
        version = f"{MODEL_NAME}@{digest}"
        return _Loaded(session, session.get_inputs()[0].name, table, version)


def preprocess(image: bytes) -> np.ndarray:
    """JPEG bytes -> float32[1, 224, 224, 3] RGB 0..255 (the model normalizes itself)."""
    try:
        with Image.open(io.BytesIO(image)) as img:
            img.draft("RGB", (DRAFT_SIZE, DRAFT_SIZE))
            rgb = img.convert("RGB")
        ImageOps.exif_transpose(rgb, in_place=True)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise LabelerError(f"cannot decode the image: {exc}", retryable=False) from exc
    side = min(rgb.size) * CROP_FRACTION
    left, top = (rgb.width - side) / 2, (rgb.height - side) / 2
    box = (left, top, left + side, top + side)
    small = rgb.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC, box=box)
    return np.asarray(small, dtype=np.float32)[np.newaxis]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits.astype(np.float64) - logits.max())
    return shifted / shifted.sum()
