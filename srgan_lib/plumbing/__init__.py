"""Plumbing, not part of the lesson: files, downloads, weights, the training engine's production extras, evaluation
tools and the ``srgan`` command.
"""
