"""The running service: the composition root (settings, wiring, the staff CLI) and the transports."""
