"""The offline ONNX labeler: real photos get the right labels, bad input fails cleanly."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time

import numpy as np
import pytest
from PIL import Image
from skimage import data

from photogallery.labelers.base import LabelerError
from photogallery.labelers.onnx import DEFAULT_LABELS, OnnxLabeler, preprocess


def jpeg(pixels: np.ndarray, *, size: tuple[int, int] | None = None, quality: int = 90) -> bytes:
    img = Image.fromarray(pixels)
    if size:
        img = img.resize(size, Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="module")
def labeler() -> OnnxLabeler:
    return OnnxLabeler()


@pytest.fixture(scope="module")
def chelsea() -> bytes:
    return jpeg(data.chelsea())


def by_name(result) -> dict:
    return {label.name: label for label in result.labels}


def test_chelsea_the_cat_is_labelled_cat_with_animal_parents(labeler, chelsea):
    labels = by_name(labeler.detect_labels(chelsea))
    assert labels["Cat"].confidence > 80
    assert {"Pet", "Animal", "Mammal"} <= set(labels["Cat"].parents)
    assert "Animal" in labels and "Dog" not in labels


def test_coffee_photo_is_labelled_coffee_a_beverage(labeler):
    result = labeler.detect_labels(jpeg(data.coffee()))
    labels = by_name(result)
    assert labels["Coffee"].confidence > 80
    assert {"Beverage", "Food"} <= set(labels["Coffee"].parents)
    assert result.labels[0].name in {"Coffee", "Cup", "Beverage", "Drink", "Food"}


def test_labels_are_sorted_by_confidence_and_within_0_to_100(labeler, chelsea):
    labels = OnnxLabeler(min_confidence=0, max_labels=50).detect_labels(chelsea).labels
    confidences = [label.confidence for label in labels]
    assert len(labels) == 50
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 100 for c in confidences)


def test_every_parent_of_a_reported_label_is_reported_too(labeler):
    for photo in (data.chelsea(), data.coffee(), data.rocket()):
        result = labeler.detect_labels(jpeg(photo))
        names = {label.name for label in result.labels}
        for label in result.labels:
            assert set(label.parents) <= names, label


def test_a_parent_is_never_less_confident_than_its_child(labeler, chelsea):
    labels = by_name(OnnxLabeler(min_confidence=0, max_labels=1000).detect_labels(chelsea))
    for label in labels.values():
        for parent in label.parents:
            assert labels[parent].confidence >= label.confidence, (label, parent)


def test_dog_breed_is_kept_as_a_specific_label_under_dog():
    table = json.loads(DEFAULT_LABELS.read_text())
    golden = table["classes"][207]
    assert golden["imagenet"] == "golden retriever"
    assert golden["name"] == "Dog" and golden["specific"] == "Golden Retriever"
    assert set(golden["parents"]) == {"Pet", "Animal", "Mammal", "Canine"}


def test_min_confidence_and_max_labels_limit_the_answer(chelsea):
    strict = OnnxLabeler(min_confidence=99.9).detect_labels(chelsea)
    capped = OnnxLabeler(min_confidence=0, max_labels=3).detect_labels(chelsea)
    assert strict.labels == []
    assert len(capped.labels) == 3


@pytest.mark.parametrize(
    "broken",
    [b"", b"not an image at all", jpeg(data.chelsea())[:600]],
    ids=["empty", "text", "truncated-jpeg"],
)
def test_undecodable_bytes_raise_a_non_retryable_labeler_error(labeler, broken):
    with pytest.raises(LabelerError) as caught:
        labeler.detect_labels(broken)
    assert caught.value.retryable is False


def test_missing_model_file_raises_a_labeler_error_naming_the_file(tmp_path, chelsea):
    missing = tmp_path / "nowhere.onnx"
    with pytest.raises(LabelerError, match=r"model not found at .*nowhere\.onnx") as caught:
        OnnxLabeler(missing).detect_labels(chelsea)
    assert caught.value.retryable is False  # retrying cannot bring the file back


def test_model_version_names_the_model_and_its_file_hash(labeler, chelsea):
    version = labeler.detect_labels(chelsea).model_version
    file_hash = hashlib.sha256(labeler.model_path.read_bytes()).hexdigest()
    assert version == f"efficientnet-lite0-imagenet@{file_hash[:12]}"


def test_grayscale_jpeg_is_labelled(labeler):
    labels = by_name(labeler.detect_labels(jpeg(data.camera())))
    assert labels["Tripod"].confidence > 50


def test_12_megapixel_photo_gets_the_same_label_as_its_preview(labeler):
    big = labeler.detect_labels(jpeg(data.chelsea(), size=(4000, 3000)))
    assert by_name(big)["Cat"].confidence > 80


def test_exif_orientation_is_applied_before_labeling():
    upright = Image.fromarray(data.chelsea())
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a camera held sideways saves it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    upright_png, stored_png = io.BytesIO(), io.BytesIO()
    upright.save(upright_png, "PNG")
    stored.save(stored_png, "PNG", exif=exif)
    np.testing.assert_array_equal(
        preprocess(stored_png.getvalue()), preprocess(upright_png.getvalue())
    )


def test_concurrent_calls_from_threads_share_one_session_and_agree(chelsea):
    labeler = OnnxLabeler()
    real_build, real_load = labeler._build, labeler._load
    builds, sessions, results = [], [], []

    def slow_build():
        builds.append(threading.current_thread().name)
        time.sleep(0.3)  # every thread arrives while the first is still building
        return real_build()

    def recording_load():
        loaded = real_load()
        sessions.append(loaded.session)
        return loaded

    labeler._build, labeler._load = slow_build, recording_load
    start = threading.Barrier(4)

    def label():
        start.wait()
        results.append(labeler.detect_labels(chelsea))

    threads = [threading.Thread(target=label) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and len(sessions) == 4
    assert all(session is sessions[0] for session in sessions)
    assert len(results) == 4 and all(r == results[0] for r in results)


def test_label_map_covers_all_1000_classes_with_resolvable_parents():
    table = json.loads(DEFAULT_LABELS.read_text())
    classes = table["classes"]
    assert [c["index"] for c in classes] == list(range(1000))
    for entry in classes:
        assert entry["imagenet"] and entry["name"]
        for parent in entry["parents"]:
            assert set(table["parents"][parent]) <= set(entry["parents"]), entry


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("Cat", {"tabby, tabby cat", "Persian cat"}),
        ("Dog", {"golden retriever", "Chihuahua", "pug, pug-dog"}),
        ("Bird", {"bald eagle, American eagle, Haliaeetus leucocephalus", "hummingbird"}),
        ("Car", {"sports car, sport car", "convertible", "cab, hack, taxi, taxicab"}),
        ("Vehicle", {"school bus", "airliner", "moped", "canoe"}),
        ("Fruit", {"banana", "strawberry", "Granny Smith"}),
        ("Food", {"pizza, pizza pie", "espresso", "cheeseburger", "broccoli"}),
        ("Flower", {"daisy"}),
        ("Boat", {"canoe", "speedboat", "schooner"}),
        ("Building", {"church, church building", "castle", "barn"}),
        ("Person", {"groom, bridegroom", "scuba diver", "suit, suit of clothes"}),
    ],
)
def test_common_searches_find_the_classes_people_mean(search, expected):
    table = json.loads(DEFAULT_LABELS.read_text())
    found = {
        c["imagenet"]
        for c in table["classes"]
        if search in (c["name"], c.get("specific"), *c["parents"])
    }
    assert expected <= found
