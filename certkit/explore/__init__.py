"""Model-based exploration: a Hypothesis state machine over a reference model of a share back end."""
