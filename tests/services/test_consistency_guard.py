"""The guard of `flask storage check --fix`, at its edges: what looks like rot is repaired, what
looks like a wrong bucket, folder or database is refused with nothing changed."""

from __future__ import annotations

import pytest

from photogallery.data.photo_files import PhotoFiles
from photogallery.services import consistency
from photogallery.services.consistency import MissingObjects, Report, UnsafeFix, fix_storage


def report(objects: int, orphans: int, photos: int = 0) -> Report:
    return Report(objects=objects, photos=photos, orphans=[f"k{n}" for n in range(orphans)])


@pytest.mark.parametrize(
    ("objects", "orphans", "refused"),
    [
        (0, 0, False),
        (1, 0, False),
        (3, 2, False),  # a small library: most objects orphaned is still plausible...
        (3, 3, True),  # ...but never every one of them
        (12, 10, False),  # up to ten orphans is always plausible
        (12, 11, True),
        (40, 20, False),  # past ten, up to half of the objects
        (40, 21, True),
        (41, 20, False),
        (41, 21, True),
    ],
)
def test_orphan_objects_over_ten_and_over_half_or_all_are_refused(objects, orphans, refused):
    if refused:
        with pytest.raises(UnsafeFix) as err:
            consistency._refuse_implausible(report(objects, orphans), 0)
        assert str(err.value) == (
            f"{orphans} of {objects} objects have no photo row: is this the right database, "
            "bucket and S3_PREFIX? Nothing was changed (--force to go ahead)."
        )
    else:
        consistency._refuse_implausible(report(objects, orphans), 0)


@pytest.mark.parametrize(
    ("photos", "lost", "refused"),
    [
        (0, 0, False),
        (1, 0, False),
        (3, 2, False),
        (3, 3, True),
        (12, 10, False),
        (12, 11, True),
        (40, 20, False),
        (40, 21, True),
        (41, 20, False),
        (41, 21, True),
    ],
)
def test_lost_originals_over_ten_and_over_half_or_all_are_refused(photos, lost, refused):
    if refused:
        with pytest.raises(UnsafeFix) as err:
            consistency._refuse_implausible(report(0, 0, photos), lost)
        assert str(err.value) == (
            f"{lost} of {photos} photos have lost their original: is this the right bucket, "
            "S3_PREFIX or PHOTOS_DIR? Nothing was changed (--force to go ahead)."
        )
    else:
        consistency._refuse_implausible(report(0, 0, photos), lost)


class NoBackends:
    """Fails the test if the fix touches storage or the database at all."""

    def __getattr__(self, name):
        raise AssertionError(f"a refused fix used backends.{name}")


def test_a_refused_fix_touches_nothing_and_force_is_what_lets_it_through():
    lost = [MissingObjects(photo=_photo(n), keys=(f"o{n}",)) for n in range(3)]
    everything_lost = Report(objects=0, photos=3, missing=lost)

    with pytest.raises(UnsafeFix):
        fix_storage(NoBackends(), everything_lost)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="backends"):
        fix_storage(NoBackends(), everything_lost, force=True)  # type: ignore[arg-type]


def _photo(n: int):
    fields = {name: None for name in PhotoFiles.__dataclass_fields__}
    return PhotoFiles(**{**fields, "id": n, "original_key": f"o{n}"})
