import logkit


def test_public_api():
    for name in logkit.__all__:
        assert callable(getattr(logkit, name)), name
    assert logkit.__version__ == "0.1.0"
