"""Developer tools run from the Makefile (NLU evaluation, benchmarks); not part of the running assistant."""
