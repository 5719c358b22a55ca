from crm import CustomerBook


def test_names():
    book = CustomerBook([(1, "Ada"), (2, "Grace"), (3, "Linus")])
    assert book.names_for([3, 1, 1]) == ["Linus", "Ada", "Ada"]


def test_missing():
    book = CustomerBook([(1, "Ada")])
    assert book.names_for([2]) == ["?"]
    assert book.names_for([2], missing="") == [""]


def test_first_record_wins():
    book = CustomerBook([(1, "Ada"), (1, "Ada Lovelace")])
    assert book.names_for([1]) == ["Ada"]


def test_add():
    book = CustomerBook([])
    book.add(7, "Ken")
    assert book.names_for([7]) == ["Ken"]
