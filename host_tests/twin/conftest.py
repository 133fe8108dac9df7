import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from twinctl import Twin  # noqa: E402


@pytest.fixture
def twin_factory():
    made = []

    def make(**kw):
        t = Twin(**kw)
        made.append(t)
        return t

    yield make
    for t in made:
        t.stop()


@pytest.fixture
def twin(twin_factory):
    return twin_factory().start()
