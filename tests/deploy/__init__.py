"""The deployment files (Dockerfile, compose, Kubernetes manifests) checked without a daemon."""
