"""How photos read on the pages: alt text of their own, labels as chips with parents folded in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from jinja2.filters import do_urlencode  # the template's own |urlencode: the same links
from markupsafe import Markup

from ..bounded import remember
from ..data.models import Photo, PhotoLabel

ALT_LABELS = 3  # the most confident labels make the alt text of an undescribed photo


@dataclass(frozen=True)
class Chip:
    name: str
    confidence: float
    source: str
    parents: tuple[str, ...]  # folded into the chip rather than shown as rows of their own


def chips(labels: Iterable[PhotoLabel]) -> list[Chip]:
    """One chip per label that is not a parent of another: Cat (Feline, Animal), not four rows."""
    labels = list(labels)
    folded = {p.casefold() for lb in labels for p in lb.parents}
    return [
        Chip(lb.name, lb.confidence, lb.source, lb.parents)
        for lb in labels
        if lb.source == "user" or lb.name.casefold() not in folded
    ]


MAX_CHIPS = 4096  # chips remembered by a process (~1 MB); a page has ~20 label names


class ChipLinks:
    """A gallery page's first chips per photo as HTML, each linking to a search for its label.
    A chip is built and escaped once per label name and search URL in a process: a page
    repeats a few names ~150 times, the next page mostly the same ones, and escaping each as
    the template would was a tenth of the page's time."""

    _chips: ClassVar[dict[tuple[str, str], Markup]] = {}  # by (search URL, name), all threads
    # A photo's chips by its labels' tuple: the data layer hands out the same tuple for the
    # same labels (data/photos.py), so a page seen again finds them all. Keyed by identity,
    # the tuple kept beside its chips so that its id cannot be reused while remembered.
    _by_labels: ClassVar[dict[tuple[int, str, int], tuple[Sequence[PhotoLabel], Markup]]] = {}

    def __init__(self, search_url: str, shown: int = 3) -> None:
        self.search_url = search_url
        self.shown = shown

    def for_labels(self, labels: Sequence[PhotoLabel]) -> Markup:
        """The first ``shown`` chips, as ``chips`` orders and folds them."""
        key = (id(labels), self.search_url, self.shown)
        found = self._by_labels.get(key)
        if found is not None and found[0] is labels:
            return found[1]
        return remember(self._by_labels, key, (labels, self._first_chips(labels)), MAX_CHIPS)[1]

    def _first_chips(self, labels: Sequence[PhotoLabel]) -> Markup:
        folded = {p.casefold() for lb in labels for p in lb.parents}
        found = []
        for lb in labels:
            if lb.source == "user" or lb.name.casefold() not in folded:
                found.append(self._chip(lb.name))
                if len(found) == self.shown:
                    break
        return Markup("".join(found))  # noqa: S704 (each part is escaped Markup already)

    def _chip(self, name: str) -> Markup:
        chip = self._chips.get((self.search_url, name))
        if chip is None:
            link = f"{self.search_url}?{do_urlencode({'q': name})}"
            chip = Markup('<a class="chip" href="{}">{}</a>').format(link, name)
            remember(self._chips, (self.search_url, name), chip, MAX_CHIPS)
        return chip


def shared_descriptions(photos: Iterable[Photo]) -> set[str]:
    """Descriptions several photos of a page carry: typed once at upload for all of them."""
    counts = Counter(p.description for p in photos if p.description)
    return {text for text, n in counts.items() if n > 1}


def alt_text(photo: Photo, shared: set[str] = frozenset()) -> str:
    """Its own description, else its labels, else a shared description, else its name."""
    if photo.description and photo.description not in shared:
        return photo.description
    if photo.labels:
        return ", ".join(lb.name for lb in photo.labels[:ALT_LABELS])
    return photo.description or f"Photo {photo.original_filename}"


def month_groups(items: Sequence[tuple]) -> list[tuple[str, list[tuple]]]:
    """Consecutive items (photo first) grouped by the month taken (EXIF), else uploaded."""
    groups: list[tuple[str, list[tuple]]] = []
    last = None
    for item in items:
        when = item[0].taken_at or item[0].created_at
        if (when.year, when.month) != last:  # a month's name is made once, not per photo
            last = (when.year, when.month)
            groups.append((when.strftime("%B %Y"), []))
        groups[-1][1].append(item)
    return groups
