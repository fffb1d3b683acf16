"""The experiment contract: what lies between the model and the tools that use it.

Sweeps (:mod:`sim.sweep`), analyses (:mod:`sim.analyses`), calibration
(:mod:`sim.inference`) and the dashboard import this package and the model, never each
other. It holds:

* :mod:`~sim.experiment.spec`: the TOML toolkit every input file shares (reading,
  declared tables and keys, one-line errors, reference pages);
* :mod:`~sim.experiment.design`: experiment files, validated and expanded into runs;
* :mod:`~sim.experiment.registry`: every analysis, its figures and what it needs of its
  design;
* :mod:`~sim.experiment.columns`: the columns of the stored tables, described once;
* :mod:`~sim.experiment.results`: a results directory's layout, reading it, and whether
  it holds the whole design;
* :mod:`~sim.experiment.identity` and :mod:`~sim.experiment.lock`: which code and
  environment made a run, and which process may write a directory;
* :mod:`~sim.experiment.style`: how every published figure looks and is written;
* :mod:`~sim.experiment.outputs`: docs/OUTPUTS.md, generated from the above.

``tests/test_layers.py`` keeps the layers apart.
"""
