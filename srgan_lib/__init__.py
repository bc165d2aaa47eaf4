"""srgan_lib: SRGAN (Ledig et al., CVPR 2017, arXiv:1609.04802) as a small, tested library.

The notebooks in ``notebooks/`` teach each idea; this package holds the one copy of the code they build, in three
parts, one per reader:

- the core, what a learner reads (each module 300 lines at most, a test checks it; named after the paper's concepts):
  :mod:`~srgan_lib.layers` (sub-pixel convolution, ICNR, residual block: Figure 4), :mod:`~srgan_lib.models`
  (SRResNet and the discriminator: Figure 4), :mod:`~srgan_lib.vgg` (phi_i,j: section 2.2.1),
  :mod:`~srgan_lib.losses` (equations 3-6: section 2.2), :mod:`~srgan_lib.images` and :mod:`~srgan_lib.resize`
  (value ranges and bicubic downsampling: section 3.2), :mod:`~srgan_lib.data` (patches and evaluation pairs:
  sections 3.1-3.2), :mod:`~srgan_lib.metrics` (PSNR and SSIM: section 3.1), :mod:`~srgan_lib.presets` (the
  config and the named recipes) and :mod:`~srgan_lib.train` (the loop: section 3.2);
- :mod:`srgan_lib.figures`: every chart, diagram and interactive view the notebooks show;
- :mod:`srgan_lib.plumbing`: files, downloads, weights, the training engine's production extras, evaluation tools,
  the ``srgan`` command.

The names a learner needs are here, so a notebook imports from one namespace: ``from srgan_lib import SRResNet,
psnr``. They load on first use (PEP 562), so ``import srgan_lib`` (and ``srgan --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

#: Public name -> the module (under ``srgan_lib``) that defines it. ``__all__`` is this table's keys.
_EXPORTS: dict[str, str] = {}


def _export(module: str, names: str) -> None:
    for name in names.split():
        _EXPORTS[name] = module


# -- the core: the paper ------------------------------------------------------------------------------------------
_export("layers", "pixel_shuffle pixel_unshuffle SubPixelUpsample icnr_")
_export("models", "SRResNet Discriminator count_parameters")
_export("images", "unit_to_model model_to_unit uint8_to_tensor tensor_to_uint8")
_export("resize", "matlab_lr modcrop downscale_torch upscale_bicubic_torch")
_export("vgg", "VGGFeatures measure_vgg_rescale to_imagenet vgg_layer_table")
_export("losses", "pixel_mse tv_loss ContentLoss PerceptualLoss discriminator_loss generator_adversarial_loss "
                  "discriminator_accuracy gradient_shares VGG_RESCALE ADVERSARIAL_WEIGHT")
_export("data", "PatchDataset EvalSet load_eval_set to_val_pairs")
_export("metrics", "psnr ssim")
_export("presets", "TrainConfig preset PRESETS")
_export("train", "Trainer srgan_step srresnet_step ADAM_BETAS")

# -- figures ------------------------------------------------------------------------------------------------------
_export("figures.upsampling", "checkerboard_figure subkernel_interleave_figure upsampling_cost_figure "
                              "training_progress_figure prelu_slopes_figure")
_export("figures.diagrams", "srgan_figure generator_figure discriminator_figure shuffle_map_figure "
                            "subpixel_block_figure training_step_figure layer_item")
_export("figures.loss_figures", "vgg_blocks_figure feature_maps_figure distance_ranking_figure ranks "
                                "saturation_race_figure generator_loss_figure toy_gan_figure ToyGANRecord "
                                "patch_ranking_figure")
_export("figures.viz", "comparison_figure difference_grid_figure image_row_figure split_crops_figure "
                       "error_map_figure patch_pairs_figure gradient_balance_figure plot_history baseline_gap_figure "
                       "model_card_figure perception_distortion_figure pick_boxes held_out_pair")
_export("figures.result_figures", "results_figure method_colours folded_text")
_export("figures.widgets", "interactive_comparison widgets_available")
_export("figures.study", "MOSStudy scripted_rater")

# -- tools around the lesson --------------------------------------------------------------------------------------
_export("plumbing.runtime", "quick_mode pick_device describe_device seed_everything in_colab gpu_config runs_root "
                            "once_per_input")
_export("plumbing.samples", "load_sample TRAINING_SAMPLES")
_export("plumbing.exercises", "run_solution")
_export("plumbing.weights", "load_generator available_weights weight_card read_generator_metadata")
_export("plumbing.upscale", "upscale_array")
_export("plumbing.diagnostics", "grid_artifact high_frequency_ratio niqe")
_export("plumbing.evaluate", "evaluate bicubic_upscaler nearest_upscaler model_upscaler table2 format_table "
                             "format_table2 paper_value originals_niqe BASELINES PAPER_TABLE1 PAPER_TABLE2")
_export("plumbing.download", "is_online DatasetNotFound DownloadError")
_export("plumbing.train_data", "training_images require_training_images")
_export("plumbing.provenance", "data_facts")
_export("plumbing.runs", "start_run run")
_export("plumbing.engine", "TrainingDiverged")
_export("plumbing.vgg_choice", "content_vgg")
_export("plumbing.vgg_weights", "PRETRAINED_VGG_LABEL RANDOM_VGG_LABEL RandomVGGWarning VGGWeightsUnavailable")

#: Names exported under another name than the one their module gives them.
_RENAMED = {"available_weights": "available", "weight_card": "card"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'srgan_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
