"""The Differentiable Neural Computer family (Graves et al. 2016, Nature 538:471).

* :mod:`memviz.dnc.addressing`: the pure addressing functions (usage, allocation, links, read modes);
* :mod:`memviz.dnc.model`: the DNC module, its trace and interventions; ``load_from_card`` for the registry;
* :mod:`memviz.dnc.fast`: the NumPy batch-one step that ``DNC.run`` traces with;
* :mod:`memviz.dnc.train` and :mod:`memviz.dnc.evaluate`: the CLIs behind ``python -m memviz.train dnc-...``.
"""
