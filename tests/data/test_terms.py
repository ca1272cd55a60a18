"""Search terms: what a person types matches what labels and descriptions say."""

from photogallery.data import terms


def test_case_and_plural_fold_together():
    assert terms.normalize("Cats") == terms.normalize("cat") == "cat"
    assert terms.normalize("glass") == "glass" and terms.normalize("bus") == "bus"


def test_words_split_punctuation_and_hyphens_without_repeats():
    assert terms.words("Golden Retriever, golden-retriever!") == ["golden", "retriever"]


def test_photo_terms_cover_labels_parents_and_description():
    found = terms.photo_terms("Birthday at the beach", ["Cat", "Pet", "Animal"])
    assert {"birthday", "beach", "cat", "pet", "animal"} <= found
