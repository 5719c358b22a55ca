import copy
import random

from crm import CustomerBook


def test_empty_book_and_empty_query():
    assert CustomerBook([]).names_for([]) == []
    assert CustomerBook([]).names_for([1, 2]) == ["?", "?"]
    assert CustomerBook([(1, "a")]).names_for([]) == []


def test_first_of_duplicates_wins_even_after_add():
    book = CustomerBook([(5, "first")])
    book.add(5, "second")
    book.add(6, "six")
    assert book.names_for([5, 6]) == ["first", "six"]


def test_added_records_are_seen_by_later_calls():
    book = CustomerBook([(1, "a")])
    assert book.names_for([2]) == ["?"]
    book.add(2, "b")
    assert book.names_for([2]) == ["b"]


def test_missing_default_and_custom():
    book = CustomerBook([(1, "a")])
    assert book.names_for([0, 1, -1], missing="n/a") == ["n/a", "a", "n/a"]


def test_equal_ids_of_other_int_like_types():
    book = CustomerBook([(1, "one"), (0, "zero")])
    assert book.names_for([True, False]) == ["one", "zero"]


def test_names_may_repeat_and_be_unicode():
    book = CustomerBook([(1, "Zoë"), (2, "Zoë"), (3, "")])
    assert book.names_for([2, 3, 1]) == ["Zoë", "", "Zoë"]


def test_negative_and_huge_ids():
    book = CustomerBook([(-7, "neg"), (10**20, "big")])
    assert book.names_for([10**20, -7]) == ["big", "neg"]


def test_lookup_leaves_book_and_query_unchanged():
    book = CustomerBook([(1, "a"), (1, "b"), (2, "c")])
    before = copy.deepcopy(vars(book))
    query = [2, 1, 3]
    book.names_for(query)
    assert vars(book) == before
    assert query == [2, 1, 3]


def test_constructor_copies_records():
    records = [(1, "a")]
    book = CustomerBook(records)
    records.append((2, "b"))
    assert book.names_for([2]) == ["?"]


def test_random_against_dict():
    rng = random.Random(37)
    for _ in range(100):
        records = [
            (rng.randrange(20), f"n{rng.randrange(100)}") for _ in range(rng.randrange(0, 30))
        ]
        first = {}
        for i, n in records:
            first.setdefault(i, n)
        query = [rng.randrange(25) for _ in range(rng.randrange(0, 30))]
        assert CustomerBook(records).names_for(query) == [first.get(i, "?") for i in query]
