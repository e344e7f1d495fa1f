"""The Open Inference Protocol (KServe v2): its errors, tensors and inference requests."""
