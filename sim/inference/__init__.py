"""Confronting the model with data: ABC-SMC calibration against the observed targets
(data/targets.csv), a Morris screening that chooses what to calibrate, and the
posterior predictive check on held-out targets.

- :mod:`sim.inference.problem`: the calibration file (priors, targets, settings) and
  the distance;
- :mod:`sim.inference.smc`: the sampler, adaptive ABC-SMC with MCMC moves, whose
  posterior depends on the master seed alone, on any executor;
- :mod:`sim.inference.screening`: Morris screening of candidate parameters;
- :mod:`sim.inference.run`: running, storing and resuming a calibration;
- :mod:`sim.inference.report`: posterior and validation tables and figures.
"""
