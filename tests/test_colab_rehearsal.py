"""A Colab rehearsal in CI (issue 25): notebooks 02 and 05 run in their GPU/Colab configuration on the CPU.

On Colab the finale trains the paper's SRGAN-VGG54 for hours; a mistake there shows at the end, or never. Here the
same cells run as a learner's "Run all" would, with:

- a stub ``google.colab`` whose ``drive.mount`` "mounts" Google Drive to a temporary folder (``SRGAN_COLAB=1`` and
  ``SRGAN_DRIVE_MOUNT``; :mod:`srgan_lib.plumbing.runtime` documents the overrides), and ``SRGAN_GPU_CONFIG=1`` for the GPU
  configuration (the ``colab`` presets, SRGAN-VGG54, progress bars) on a CPU;
- no network (the probe answers "offline"), no cached VGG19 (an empty ``TORCH_HOME``), no DIV2K, and a stand-in
  data folder of a few small photographs;
- the quick run's handful of steps (``SRGAN_QUICK=1``: four steps of batch 2, every code path).

It asserts the refusals (no pretrained VGG19; no training data), the exports with their provenance (notebook 02's
SRResNet, then notebook 05's SRGAN started from it), and a resume after a simulated restart. Cells run up to each
notebook's export; the results sections are nbval's business.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from PIL import Image

from srgan_lib.plumbing.checkpoint import load_checkpoint, read_weights
from srgan_lib.plumbing.weights import load_generator

nbclient = pytest.importorskip("nbclient")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NB02, NB05 = ROOT / "notebooks" / "02_srresnet_mse.ipynb", ROOT / "notebooks" / "05_srgan_training_and_results.ipynb"
EXPORT_CELL = "EXPORTED = "  # the cell that exports the run's generator (02: run(...), 05: trainer.export())
OFFLINE = """\
# injected by the rehearsal: no network, no maintainer datasets (Colab has neither of ours)
import srgan_lib.plumbing.download as _download
_download.is_online = lambda *args, **kwargs: False
_download.repository_datasets = lambda: None"""
STUB_COLAB = """\
import os


def mount(mountpoint, **kwargs):
    os.makedirs(os.path.join(mountpoint, "MyDrive"), exist_ok=True)
    print(f"Mounted at {mountpoint} (rehearsal stub)")
"""


@pytest.fixture
def colab(tmp_path, monkeypatch) -> dict[str, Path]:
    """The rehearsal's environment: stub google.colab, Drive in a temporary folder, offline, a stand-in data folder."""
    stub = tmp_path / "stub" / "google" / "colab"
    stub.mkdir(parents=True)
    (stub.parent / "__init__.py").write_text("")
    (stub / "__init__.py").write_text("from . import drive\n")
    (stub / "drive.py").write_text(STUB_COLAB)
    data = tmp_path / "standin"
    data.mkdir()
    rng = np.random.default_rng(0)
    for k in range(4):  # smooth random photographs, larger than the 96 x 96 crops notebook 05 probes
        small = rng.integers(0, 256, (12, 14, 3), dtype=np.uint8)
        Image.fromarray(small).resize((140, 120), Image.BICUBIC).save(data / f"photo{k}.png")
    drive = tmp_path / "drive"
    env = {"SRGAN_QUICK": "1", "SRGAN_COLAB": "1", "SRGAN_GPU_CONFIG": "1", "SRGAN_DRIVE_MOUNT": str(drive),
           "TORCH_HOME": str(tmp_path / "torch-home"), "SRGAN_DATA": str(tmp_path / "data-root"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "stub"), str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "2"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SRGAN_TRAIN_DATA", raising=False)
    return {"data": data, "runs": drive / "MyDrive" / "srgan-tutorial" / "runs"}


def rehearse(path: Path, params: str = "", until: str = EXPORT_CELL, after: str = "") -> nbformat.NotebookNode:
    """Execute ``path``'s cells up to the first whose source contains ``until`` in a fresh kernel (a restarted
    runtime), with the offline patch first, ``params`` injected after the ``parameters`` cell (papermill style) and
    ``after`` appended. Raises ``nbclient.exceptions.CellExecutionError`` naming the failing cell's error."""
    nb = nbformat.read(path, as_version=4)
    last = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and until in c.source)
    cells = nb.cells[: last + 1]
    params_at = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    cells.insert(params_at + 1, nbformat.v4.new_code_cell(params))
    cells.insert(params_at, nbformat.v4.new_code_cell(OFFLINE))
    if after:
        cells.append(nbformat.v4.new_code_cell(after))
    nb.cells = cells
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    return client.execute()


def text(nb: nbformat.NotebookNode) -> str:
    """Everything the executed cells printed."""
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_notebook_05_refuses_a_random_vgg_and_toy_data_before_any_work(colab):
    with pytest.raises(nbclient.exceptions.CellExecutionError, match=r"STOP: CONTENT='vgg54' needs the ImageNet"):
        rehearse(NB05, until="training_images(")  # the VGG19 is checked first: no data touched
    with pytest.raises(nbclient.exceptions.CellExecutionError, match=r"STOP: the colab preset .* no training data"):
        rehearse(NB05, params="ALLOW_RANDOM_VGG = True", until="training_images(")


def test_notebook_02_refuses_toy_data_on_a_gpu(colab):
    with pytest.raises(nbclient.exceptions.CellExecutionError, match=r"STOP: the GPU run .* no training data"):
        rehearse(NB02)


def test_notebooks_02_and_05_export_with_provenance_and_resume_after_a_restart(colab):
    params = f"TRAIN_DATA = {str(colab['data'])!r}"
    out = text(rehearse(NB02, params=params))  # a real SRResNet (here: 4 steps), kept in Drive for notebook 05
    srresnet = colab["runs"] / "srresnet_colab" / "generator.safetensors"
    assert srresnet.is_file() and "a fresh run" in out
    _, meta = read_weights(srresnet)
    assert (meta["preset"], meta["content"], meta["step"]) == ("colab", "mse", 4)
    assert meta["data_source"] == "folder:standin" and meta["data_images"] == 4 and meta["data_toy"] is False

    params += "\nALLOW_RANDOM_VGG = True  # offline: the rehearsal's explicit opt-in"
    disconnect = "trainer.fit(steps=2)\nraise SystemExit('simulated disconnect at step 2')"
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="simulated disconnect"):
        rehearse(NB05, params=params, until="run folder {RUN_DIR.name}", after=disconnect)
    run = colab["runs"] / "srgan_vgg54_colab"
    assert load_checkpoint(run / "last.pt")["step"] == 2 and not (run / "generator.safetensors").exists()

    out = text(rehearse(NB05, params=params))  # "Run all" on a fresh runtime
    assert "resuming" in out and "at step 2 of 4" in out and "G from" in out and "srresnet_colab" in out
    _, meta = read_weights(run / "generator.safetensors")
    assert (meta["content"], meta["vgg_weights"], meta["preset"], meta["step"]) == ("vgg54", "random", "colab", 4)
    assert meta["init_generator"] == "generator.safetensors" and meta["data_source"] == "folder:standin"
    assert meta["vgg_features_sha256"] not in ("none", "unknown") and isinstance(meta["vgg_rescale"], float)
    assert sorted(p.name for p in run.glob("*.pt")) == ["last.pt"]  # one checkpoint kept, not a pile
    with pytest.warns(UserWarning, match="RANDOM"):  # the random-VGG generator says so wherever it is loaded
        exported = load_generator(run / "generator.safetensors")
    with pytest.warns(UserWarning, match="RANDOM"):
        from_checkpoint = load_generator(run / "last.pt")
    for k, v in exported.state_dict().items():  # last.pt loads as the scored generator (EMA, recalibrated BN)
        assert torch.equal(v, from_checkpoint.state_dict()[k]), k
