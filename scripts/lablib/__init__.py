"""The Ambit lab: a multi-node Kubernetes-like cluster made of network namespaces on one machine.

scripts/lab is the command line; this package holds its parts (see docs/lab.md).
"""
