"""srgan_lib: SRGAN (Ledig et al., CVPR 2017, arXiv:1609.04802) as a small, tested library.

The notebooks in ``notebooks/`` teach each idea; this package holds the one copy of the code they
build. Modules follow the paper:

- :mod:`srgan_lib.layers`  sub-pixel convolution (ESPCN), ICNR, residual block      (Figure 4)
- :mod:`srgan_lib.models`  SRResNet generator and discriminator                     (Figure 4)
- :mod:`srgan_lib.vgg`     the VGG19 feature network phi_i,j                        (Section 2.2.1)
- :mod:`srgan_lib.losses`  pixel MSE, VGG content loss, adversarial loss            (Section 2.2)
- :mod:`srgan_lib.resize`  MATLAB-era bicubic and the fast torch path               (Section 3.2)
- :mod:`srgan_lib.data`    training patches, evaluation pairs                      (Sections 3.1, 3.2)
- :mod:`srgan_lib.metrics` PSNR / SSIM, "standard" and "paper" flavours             (Section 3.1)
- :mod:`srgan_lib.train`   the paper's training loop for SRResNet and SRGAN        (Section 3.2)

The other modules are plumbing (files, downloads, weights, the training engine's production extras, the
command line); README's module table lists every module with its floor and kind.
"""

__version__ = "0.1.0"
