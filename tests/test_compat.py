"""Files written by srgan_lib 0.1.0 still load and resume (tests/data/compat, made by its make_compat.py).

The checkpoint is a run stopped at step 2 of 4 (SRResNet, one residual block, 8 channels, a moving average of G);
the weight file is the averaged generator of the same run trained to step 4 without a stop. Resuming the checkpoint
with today's code must give that generator: the format (config fields, optimiser, schedule, scaler, RNG and
moving-average states) and the training arithmetic are both unchanged.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import torch

from srgan_lib.plumbing.checkpoint import load_checkpoint, read_weights
from srgan_lib.data import PatchDataset
from srgan_lib.models import SRResNet
from srgan_lib.train import Trainer
from srgan_lib.plumbing.weights import load_generator, read_generator_metadata

COMPAT = Path(__file__).resolve().parent / "data" / "compat"
sys.path.insert(0, str(COMPAT))
import make_compat  # noqa: E402  (the 0.1.0 run's data and config)


def test_old_weight_file_loads_as_a_generator():
    g = load_generator(COMPAT / "srresnet_step4.safetensors")
    assert isinstance(g, SRResNet) and g.config() == {"scale": 4, "n_blocks": 1, "channels": 8}
    meta = read_generator_metadata(COMPAT / "srresnet_step4.safetensors")
    assert meta["step"] == 4 and meta["library_version"] == "0.1.0" and meta["ema_decay"] == 0.9
    with torch.no_grad():
        out = g(torch.rand(1, 3, 5, 6))
    assert out.shape == (1, 3, 20, 24) and torch.isfinite(out).all()


def test_old_checkpoint_resumes_to_the_uninterrupted_run(tmp_path):
    state = load_checkpoint(COMPAT / "srresnet_step2.pt")  # weights_only=True
    assert state["step"] == 2 and state["provenance"]["library_version"] == "0.1.0"
    shutil.copy(COMPAT / "srresnet_step2.pt", tmp_path / "last.pt")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the files were written on one thread
    try:
        data = PatchDataset(make_compat.images(), crop=16, scale=4, seed=1)
        run = Trainer(make_compat.config(), data, tmp_path, device="cpu", progress=False)
        assert run.step == 2
        run.fit()
    finally:
        torch.set_num_threads(threads)
    expected, _ = read_weights(COMPAT / "srresnet_step4.safetensors")
    got = run.eval_generator.state_dict()
    for name, want in expected.items():
        torch.testing.assert_close(got[name], want, rtol=0, atol=1e-6, msg=f"{name} after resuming the 0.1.0 run")
