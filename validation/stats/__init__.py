"""Statistical kernels on sorted columns and histograms: KS with its p-values (exact and
Kolmogorov), W1, shared reference-quantile bins, KL/JS and separation power, and adjusted
p-values for many tests."""
