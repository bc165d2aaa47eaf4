"""The package's public names (``srgan_lib.__all__``, issue 29): one namespace for notebooks and users.

Every exported name resolves to an object of the module the table names, the table is what ``__all__`` and ``dir``
say, and ``import srgan_lib`` loads nothing heavy (the names load on first use), which keeps ``srgan --help`` fast.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import srgan_lib


def test_every_exported_name_resolves_to_its_module_object():
    for name in srgan_lib.__all__:
        module = importlib.import_module(f"srgan_lib.{srgan_lib._EXPORTS[name]}")
        own = srgan_lib._RENAMED.get(name, name)
        assert getattr(srgan_lib, name) is getattr(module, own), name
    assert sorted(srgan_lib.__all__) == sorted(srgan_lib._EXPORTS)
    assert set(srgan_lib.__all__) <= set(dir(srgan_lib))


def test_exported_names_are_public_and_documented():
    for name in srgan_lib.__all__:
        assert not name.startswith("_"), name
        obj = getattr(srgan_lib, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        srgan_lib.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from srgan_lib import no_such_name", {})


def test_importing_the_package_loads_no_torch():
    code = "import sys, srgan_lib; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"], out
