"""The test suite; ``tests.helpers`` asserts get pytest's rewritten failure messages."""

import pytest

pytest.register_assert_rewrite("tests.helpers")
