"""Write the checkpoint and weight files that tests/test_compat.py loads: files in the format of srgan_lib 0.1.0.

Run once, with srgan_lib 0.1.0 (commit 0917e04), from the repository root:
``python tests/data/compat/make_compat.py``. Later versions must still read these files and resume the run in them;
re-running this script with a later version would defeat the test, so it refuses when the files exist.
"""

from pathlib import Path

import numpy as np
import torch

from srgan_lib.data import PatchDataset
from srgan_lib.train import TrainConfig, Trainer

HERE = Path(__file__).resolve().parent


def images() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(3)]


def config() -> TrainConfig:
    return TrainConfig(n_blocks=1, channels=8, crop=16, batch_size=2, steps=4, lr=1e-3, warmup_steps=1,
                       schedule="cosine", ema_decay=0.9, log_every=1, val_every=1000, ckpt_every=2, seed=3)


if __name__ == "__main__":
    assert not (HERE / "srresnet_step2.pt").exists(), "the compat files exist: keep the ones 0.1.0 wrote"
    torch.set_num_threads(1)
    data = PatchDataset(images(), crop=16, scale=4, seed=1)
    split = Trainer(config(), data, HERE / "run", device="cpu", progress=False)
    split.fit(steps=2)
    (HERE / "run" / "last.pt").rename(HERE / "srresnet_step2.pt")
    (HERE / "run").rmdir()
    full = Trainer(config(), data, HERE / "full", device="cpu", progress=False)
    full.fit()
    full.export_generator(HERE / "srresnet_step4.safetensors")
    for f in (HERE / "full").iterdir():
        f.unlink()
    (HERE / "full").rmdir()
