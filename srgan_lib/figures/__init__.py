"""Figure code: every chart, diagram and interactive view the notebooks show (matplotlib, ipywidgets).

Not part of the lesson's arithmetic: each figure draws what a core module computes.
"""
