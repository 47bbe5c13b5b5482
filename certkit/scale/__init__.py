"""Scale certification: grow a back end to thousands of shares in steps, measure every
operation's latency at each step, fit its cost against the number of shares and flag what grows.

`measurement` drives the driver (through the suites' Resources door), `analysis` turns latency
samples into percentiles, exponents and findings, `plot` draws the curves.
"""
