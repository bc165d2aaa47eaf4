"""The named training recipes (``quick``, ``cpu``, ``colab``, ``paper``) that :func:`srgan_lib.train.preset` turns
into a :class:`~srgan_lib.train.TrainConfig`, section 3.2.

``paper`` is section 3.2 to the letter. The others shrink the run to what a CPU, a CI job or a Colab GPU can do, and
every value that departs from the paper says why next to it, with the measurement behind it where there is one.
"""

from __future__ import annotations

from typing import Any

# Times are estimates except where measured (see the model cards).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "srresnet": {
        # CI: seconds on a CPU, every code path (validation, checkpoint, samples) still runs.
        "quick": dict(steps=6, batch_size=4, crop=48, lr=1e-4, log_every=2, val_every=3, ckpt_every=3),
        # The recipe of the shipped weights: 64 x 64 crops and a cosine schedule converge faster per
        # CPU-second than the paper's constant 1e-4 (a stated deviation; the architecture is the paper's).
        "cpu": dict(steps=5000, batch_size=16, crop=64, lr=5e-4, schedule="cosine", warmup_steps=200,
                    min_lr=1e-6, log_every=50, val_every=500, ckpt_every=250),
        # DIV2K on a Colab T4 (fp16 autocast): an estimated 8-16 min (122 GFLOP per step at the 5-10 TFLOP/s a
        # T4 sustains; README, "Training SRGAN for real", and benchmarks/data_speed.txt say how it was made).
        "colab": dict(steps=40_000, batch_size=16, crop=96, lr=2e-4, schedule="cosine", warmup_steps=500,
                      min_lr=1e-6, num_workers=2, log_every=100, val_every=2000, ckpt_every=1000),
        # Section 3.2: 10^6 iterations at 1e-4.
        "paper": dict(steps=1_000_000, batch_size=16, crop=96, lr=1e-4, num_workers=4, log_every=500,
                      val_every=10_000, ckpt_every=5000),
    },
    "srgan": {
        "quick": dict(mode="srgan", steps=6, batch_size=2, crop=48, lr=1e-4, schedule="step_half",
                      warmup_steps=2, vgg_weights="random", allow_random_vgg=True, content="vgg54", log_every=2, val_every=3, ckpt_every=3,
                      collapse_window=0),
        # cpu and colab warm the learning rate up (not in the paper): G starts from trained SRResNet weights,
        # and a fresh Adam's first steps move every weight by about the full learning rate whatever its
        # gradient. Measured from the shipped SRResNet (Set5, batch 16 of 96x96, 10 steps at 1e-4): -0.78 dB
        # without a warm-up, -0.10 dB with one; the paper's 10^5 steps recover from that dip, short runs don't.
        # cpu is the recipe of the shipped srgan_mse_x4 (its card gives each choice and its measured effect, and
        # the probe runs that chose it): G's BN statistics frozen (they belong to 96x96 crops), G's upsampling
        # frozen and D shown a random window (the period-4 grid), an EMA of G validated and exported, D at the
        # paper's learning rate, G at a tenth of it, and 5x the adversarial weight (what draws texture in 2,000
        # steps instead of the paper's 10^5: measured on Set14 NIQE against Set5 PSNR; 10x gave up too much PSNR).
        "cpu": dict(mode="srgan", steps=2000, batch_size=8, crop=64, lr=1e-5, lr_d=1e-4, schedule="step_half",
                    warmup_steps=100, content="mse", adversarial_weight=5e-3, init_generator="srresnet_x4",
                    freeze_bn=True, freeze_upsampling=True,
                    d_shift=3, ema_decay=0.995, log_every=50, val_every=200, ckpt_every=250),
        # colab's VGG rescale is measured (a stated deviation): 1/12.75 was chosen to put the Caffe VGG19's
        # loss "on a scale comparable to the MSE loss" (section 3.2); torchvision's VGG19 takes ~58x smaller
        # input, so with 1/12.75 its VGG54 loss is far below the MSE and D's 1e-3 term drives G almost
        # alone. "auto" applies the paper's criterion to the VGG19 actually loaded (vgg.measure_vgg_rescale).
        # colab also takes the cpu recipe's grid remedies (measured with SRGAN-MSE on the CPU; not yet on a GPU
        # with VGG54): G's upsampling frozen, D shown a random window, an EMA of G (0.999 over 20,000 steps).
        "colab": dict(mode="srgan", steps=20_000, batch_size=16, crop=96, lr=1e-4, schedule="step_half",
                      warmup_steps=500, content="vgg54", vgg_rescale="auto", init_generator="srresnet_x4",
                      freeze_upsampling=True, d_shift=3,
                      ema_decay=0.999, num_workers=2, log_every=100, val_every=1000, ckpt_every=500),
        # Section 3.2: 10^5 iterations at 1e-4, then 10^5 at 1e-5.
        "paper": dict(mode="srgan", steps=200_000, batch_size=16, crop=96, lr=1e-4, schedule="step_half",
                      content="vgg54", num_workers=4, log_every=500, val_every=10_000, ckpt_every=5000),
    },
}
